package config_test

import (
	"fmt"

	"github.com/ndnsvs/ndnsvs-node/internal/config"
)

func ExampleParse() {
	doc := `
[faces.udp]
listen = ["0.0.0.0:6363", "1.2.3.4:99999"]
lifetim = "5m"

[[group]]
prefix = "/"
`
	_, err := config.Parse([]byte(doc), "config.toml")
	fmt.Println(err)
	// Output:
	// config: config.toml:3: faces.udp.listen[1]: "1.2.3.4:99999": port out of range
	// config: config.toml:4: faces.udp.lifetim: unknown key (did you mean faces.udp.lifetime?)
	// config: config.toml:7: group[0].prefix: "/": a sync group needs a prefix longer than "/"
}

func ExampleConfig_UnixSocketPath() {
	c := config.Default()
	c.Faces.Unix.Path = "/run/ndnsvs/nfd.sock"
	fmt.Println(c.UnixSocketPath(), c.FileMode())
	// Output: /run/ndnsvs/nfd.sock -rw-rw----
}
