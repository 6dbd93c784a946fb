module github.com/lantern-safeguarding/lantern/services/workspace

go 1.26.0

require (
	github.com/chromedp/cdproto v0.159.0
	github.com/chromedp/chromedp v0.23.0
	github.com/coreos/go-oidc/v3 v3.21.0
	github.com/go-jose/go-jose/v4 v4.1.8
	github.com/lantern-safeguarding/lantern/pkg v0.0.0
	github.com/lantern-safeguarding/lantern/schemas v0.0.0
	golang.org/x/oauth2 v0.37.0
)

require github.com/go-json-experiment/json v1.27.2 // indirect

replace github.com/lantern-safeguarding/lantern/pkg => ../../pkg

replace github.com/lantern-safeguarding/lantern/schemas => ../../schemas
