#!/bin/sh
# Writes a self-signed TLS certificate for local use into docker/nginx/certs/ (tls.crt, tls.key), which Nginx in
# docker-compose.yml mounts. The key never leaves this machine: certs/ is git-ignored. Browsers will warn about the
# certificate (it is self-signed); for anything public, use a real one (e.g. Let's Encrypt) under the same names.
#
#   ./gen-cert.sh                  # CN=localhost, SANs localhost, 127.0.0.1 and ::1, valid 365 days
#   ./gen-cert.sh pulse.internal   # another host name (added to the SANs)
#   FORCE=1 ./gen-cert.sh          # replace an existing certificate
set -eu

name="${1:-localhost}"
days="${DAYS:-365}"
dir="$(cd "$(dirname "$0")" && pwd)/certs"
mkdir -p "$dir"

if [ -s "$dir/tls.crt" ] && [ -s "$dir/tls.key" ] && [ "${FORCE:-0}" != "1" ]; then
  echo "$dir/tls.crt exists; FORCE=1 $0 to replace it"
  exit 0
fi

san="DNS:localhost,IP:127.0.0.1,IP:::1"
[ "$name" = "localhost" ] || san="DNS:$name,$san"

umask 077
openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days "$days" \
  -subj "/CN=$name" -addext "subjectAltName=$san" \
  -keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null
# the key for its owner only (Nginx's master process reads it as root); the certificate for anyone
chmod 0600 "$dir/tls.key"
chmod 0644 "$dir/tls.crt"
echo "wrote $dir/tls.crt and $dir/tls.key (CN=$name, $days days)"
openssl x509 -in "$dir/tls.crt" -noout -subject -enddate
