package e2e_test

import (
	"testing"

	"github.com/lantern-safeguarding/lantern/pkg/testkit/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
