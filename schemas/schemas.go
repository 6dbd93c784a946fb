// Package schemas is the machine-readable form of Lantern's contract: a JSON
// Schema (2020-12) for every HTTP body and every event's data, an example of
// each event, and the AsyncAPI and OpenAPI documents. They are embedded so
// that services validate against exactly the files shipped.
package schemas

import "embed"

// FS holds events/*.schema.json, http/*.schema.json, common/*.schema.json
// (definitions the others share and the CloudEvents envelope),
// examples/*.json and the API documents. Every schema's $id is BaseURL
// followed by its path in FS, so a relative $ref between files resolves the
// same way whether a tool reads the files from disk or by $id.
//
//go:embed common events http examples asyncapi.yaml openapi.yaml
var FS embed.FS

// BaseURL prefixes the $id of every schema in FS.
const BaseURL = "https://lantern.example/schemas/"
