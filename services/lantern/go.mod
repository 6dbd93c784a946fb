module github.com/lantern-safeguarding/lantern/services/lantern

go 1.26.0

require (
	github.com/lantern-safeguarding/lantern/pkg v0.0.0
	github.com/lantern-safeguarding/lantern/schemas v0.0.0
)

replace github.com/lantern-safeguarding/lantern/pkg => ../../pkg

replace github.com/lantern-safeguarding/lantern/schemas => ../../schemas
