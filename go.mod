module github.com/ndnsvs/ndnsvs-node

go 1.26.0

require (
	github.com/named-data/ndnd v1.5.3 // indirect
	github.com/pelletier/go-toml/v2 v2.4.3 // indirect
	github.com/prometheus/client_golang v1.25.0 // indirect
)
