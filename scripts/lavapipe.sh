#!/usr/bin/env bash
# Fetches Mesa 25's lavapipe, a CPU Vulkan driver that (unlike SwiftShader)
# offers shader-f16, from Debian bookworm-backports into a project folder,
# without installing it system-wide, so the f16 kernels are tested on
# machines with no GPU. Idempotent. Usage: scripts/lavapipe.sh [DEST]
set -euo pipefail
dest=$(realpath -m "${1:-.cache/lavapipe}")
if [ -f "$dest/lvp_icd.json" ]; then
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/archives/partial"
echo "deb http://deb.debian.org/debian bookworm-backports main" > "$work/sources.list"
opts=(
  -o Dir::Etc::SourceList="$work/sources.list"
  -o Dir::Etc::SourceParts=/dev/null
  -o Dir::State::Lists="$work/lists"
  -o Dir::Cache::Archives="$work/archives"
  -o APT::Get::List-Cleanup=0
  -o APT::Sandbox::User=root
)
apt-get "${opts[@]}" update -qq
(cd "$work" && apt-get "${opts[@]}" download -qq mesa-vulkan-drivers libdrm2 libdrm-amdgpu1)
mkdir -p "$dest/root"
for deb in "$work"/*.deb; do
  dpkg-deb -x "$deb" "$dest/root"
done
lib="$dest/root/usr/lib/x86_64-linux-gnu"
[ -f "$lib/libvulkan_lvp.so" ] || { echo "lavapipe: libvulkan_lvp.so missing after extraction" >&2; exit 1; }
cat > "$dest/lvp_icd.json" <<JSON
{ "file_format_version": "1.0.0", "ICD": { "library_path": "$lib/libvulkan_lvp.so", "api_version": "1.4.305" } }
JSON
echo "lavapipe ready in $dest"
