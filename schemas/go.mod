module github.com/lantern-safeguarding/lantern/schemas

go 1.26.0
