// Command gateway serves all of Lantern's HTTP surface from one address.
package main

import (
	"github.com/lantern-safeguarding/lantern/pkg/serverenv"
	"github.com/lantern-safeguarding/lantern/services/gateway/internal/gateway"
)

func main() { serverenv.Main(gateway.Service) }
