module example.com/goapp

go 1.22

require (
	github.com/google/uuid v1.6.0
	golang.org/x/sys v0.18.0 // indirect
)
