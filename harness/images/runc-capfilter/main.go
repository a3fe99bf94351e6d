// runc-capfilter: an OCI runtime in front of runc that drops, from the capabilities a container asks
// for, the ones this machine's capability bounding set does not have, then execs the real runc.
//
// Why: Docker before 23 gives a --privileged container every capability it knows by name. Where the
// bounding set lacks one (a VM without CAP_SYS_RESOURCE), runc cannot raise it and fails with
// "unable to apply caps: operation not permitted". Docker 23+ asks only for the capabilities it
// has (moby #42933); this does the same for older engines. Registered with
// `dockerd --add-runtime thanos-ha-e2e-runc=<this> --default-runtime thanos-ha-e2e-runc`.
//
// It edits process.capabilities in <bundle>/config.json for `create` and `run`, and in the
// --process file for `exec` (docker exec --privileged). Every other call passes through untouched.
// Standard library only.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Capability names by number, as in linux/capability.h.
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

func main() {
	args := os.Args[1:]
	if file := specFile(args); file != "" {
		if err := filterFile(file, missingCaps()); err != nil {
			fmt.Fprintf(os.Stderr, "runc-capfilter: %s: %v (passing it to runc unchanged)\n", file, err)
		}
	}
	runc := realRunc()
	if runc == "" {
		fmt.Fprintln(os.Stderr, "runc-capfilter: no runc found (looked in /usr/sbin, /usr/bin, /usr/local/sbin, /usr/local/bin, /sbin, /bin)")
		os.Exit(127)
	}
	err := syscall.Exec(runc, append([]string{"runc"}, args...), os.Environ())
	fmt.Fprintf(os.Stderr, "runc-capfilter: exec %s: %v\n", runc, err)
	os.Exit(126)
}

// specFile is the JSON that carries capabilities for this call, or "" when there is none.
func specFile(args []string) string {
	command, rest := "", []string(nil)
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			command, rest = a, args[i+1:]
			break
		}
		// Global options that take a value in the next argument.
		if !strings.Contains(a, "=") && (a == "--root" || a == "--log" || a == "--log-format" || a == "--criu" || a == "--rootless") {
			i++
		}
	}
	switch command {
	case "create", "run":
		bundle := optionValue(rest, "--bundle", "-b")
		if bundle == "" {
			bundle = "."
		}
		return filepath.Join(bundle, "config.json")
	case "exec":
		return optionValue(rest, "--process", "-p")
	}
	return ""
}

func optionValue(args []string, long, short string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		if (a == long || a == short) && i+1 < len(args) {
			return args[i+1]
		}
		if strings.HasPrefix(a, long+"=") {
			return strings.TrimPrefix(a, long+"=")
		}
	}
	return ""
}

// missingCaps: the capability names whose bit is not in this process's bounding set.
func missingCaps() map[string]bool {
	missing := map[string]bool{}
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return missing
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		line := scanner.Text()
		if !strings.HasPrefix(line, "CapBnd:") {
			continue
		}
		mask, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(line, "CapBnd:")), 16, 64)
		if err != nil {
			return missing
		}
		for bit, name := range capNames {
			if mask&(1<<uint(bit)) == 0 {
				missing[name] = true
			}
		}
	}
	return missing
}

// filterFile removes the missing capabilities from every set in the file's capabilities object:
// a runtime spec (process.capabilities) or a process spec (capabilities).
func filterFile(path string, missing map[string]bool) error {
	if len(missing) == 0 {
		return nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	decoder := json.NewDecoder(bytes.NewReader(raw))
	decoder.UseNumber() // rlimits and ids must survive exactly
	var doc map[string]any
	if err := decoder.Decode(&doc); err != nil {
		return err
	}
	caps, _ := doc["capabilities"].(map[string]any)
	if process, ok := doc["process"].(map[string]any); ok {
		caps, _ = process["capabilities"].(map[string]any)
	}
	if caps == nil {
		return nil
	}
	changed := false
	for set, value := range caps {
		list, ok := value.([]any)
		if !ok {
			continue
		}
		kept := make([]any, 0, len(list))
		for _, c := range list {
			if name, ok := c.(string); ok && missing[name] {
				changed = true
				continue
			}
			kept = append(kept, c)
		}
		caps[set] = kept
	}
	if !changed {
		return nil
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, info.Mode().Perm())
}

func realRunc() string {
	self, _ := os.Executable()
	self, _ = filepath.EvalSymlinks(self)
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/sbin", "/bin"} {
		candidate := filepath.Join(dir, "runc")
		resolved, err := filepath.EvalSymlinks(candidate)
		if err != nil || resolved == self {
			continue
		}
		if info, err := os.Stat(resolved); err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0 {
			return candidate
		}
	}
	return ""
}
