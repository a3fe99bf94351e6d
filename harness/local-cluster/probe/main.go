// probe: GETs each URL given as an argument and prints "<status> <url> <first line of the body>".
// Exits 1 if any request fails or answers other than 2xx. A static binary in a FROM-scratch image
// (thanos-ha-e2e/probe), so that a pod can check Services from inside the cluster without a shell.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	client := &http.Client{Timeout: 10 * time.Second}
	failed := false
	for _, url := range os.Args[1:] {
		resp, err := client.Get(url)
		if err != nil {
			fmt.Printf("ERR %s %v\n", url, err)
			failed = true
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		line := strings.SplitN(strings.TrimSpace(string(body)), "\n", 2)[0]
		fmt.Printf("%d %s %s\n", resp.StatusCode, url, line)
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}
