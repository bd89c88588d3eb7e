# Sourced by the scripts that start a test server on loopback
# (s3-server.sh, pg-server.sh). The sourcing script defines say().

# pick_port prints a port the kernel is not using right now. The server
# failing to bind it (a race with another process) makes start try another.
pick_port() {
	local port
	for _ in $(seq 50); do
		port=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
	say "no free port found"
	exit 1
}
