#!/usr/bin/env bash
# Throw-away PKI for the TLS benchmark runs, made with openssl (never
# committed keys): a CA and a server certificate for 127.0.0.1/localhost.
# usage: scripts/tls_certs.sh DIR    -> DIR/ca.pem DIR/server.pem DIR/server.key
# env:   TLS_KEY=rsa (default: RSA 2048, what most deployments use) or
#        ec (ECDSA P-256: cheaper handshakes on both sides)
set -euo pipefail
dir=$1
mkdir -p "$dir"
case "${TLS_KEY:-rsa}" in
    rsa) newkey=(-newkey rsa:2048) ;;
    ec) newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
    *) echo "TLS_KEY must be rsa or ec" >&2; exit 2 ;;
esac
cd "$dir"
openssl req -x509 "${newkey[@]}" -nodes -days 2 -subj "/CN=shardmq bench CA" \
    -keyout ca.key -out ca.pem \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    2>/dev/null
openssl req "${newkey[@]}" -nodes -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile server.ext -out server.pem 2>/dev/null
rm -f server.csr server.ext ca.srl
