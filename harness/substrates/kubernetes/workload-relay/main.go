// workload-relay: lets pods reach the workload exporter, which runs in the test process, outside the
// cluster (on a laptop, behind a port-forward; an EKS pod cannot dial a laptop).
//
// The test process keeps a few connections open to the tunnel port (through port-forward). Each
// connection a pod makes to the public port is paired with one idle tunnel connection and bytes are
// copied both ways; the test process sees the first bytes arrive, dials its exporter, and opens a new
// idle tunnel connection to replace the one taken. A static binary in a FROM-scratch image.
package main

import (
	"io"
	"log"
	"net"
	"os"
	"time"
)

const waitForTunnel = 15 * time.Second

func main() {
	public := listen(env("PUBLIC_ADDR", ":8080"))
	tunnel := listen(env("TUNNEL_ADDR", ":8081"))
	idle := make(chan net.Conn, 256)
	go func() {
		for {
			c, err := tunnel.Accept()
			if err != nil {
				log.Fatalf("tunnel accept: %v", err)
			}
			idle <- c
		}
	}()
	log.Printf("relaying %s to tunnel connections on %s", public.Addr(), tunnel.Addr())
	for {
		c, err := public.Accept()
		if err != nil {
			log.Fatalf("public accept: %v", err)
		}
		go pair(c, idle)
	}
}

func pair(c net.Conn, idle chan net.Conn) {
	select {
	case t := <-idle:
		done := make(chan struct{}, 2)
		go func() { io.Copy(t, c); done <- struct{}{} }()
		go func() { io.Copy(c, t); done <- struct{}{} }()
		<-done
		c.Close()
		t.Close()
	case <-time.After(waitForTunnel):
		log.Printf("no tunnel connection within %s for %s: is the test process attached?", waitForTunnel, c.RemoteAddr())
		c.Close()
	}
}

func listen(addr string) net.Listener {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatalf("listen %s: %v", addr, err)
	}
	return l
}

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
