module github.com/lantern-safeguarding/lantern/services/router

go 1.26.0

require (
	github.com/lantern-safeguarding/lantern/pkg v0.0.0
	github.com/lantern-safeguarding/lantern/schemas v0.0.0
	go.yaml.in/yaml/v3 v3.0.5
)

replace github.com/lantern-safeguarding/lantern/pkg => ../../pkg

replace github.com/lantern-safeguarding/lantern/schemas => ../../schemas
