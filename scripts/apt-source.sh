#!/usr/bin/env bash
# Downloads a Debian source package into DIR without touching /etc/apt: a private apt
# configuration (under DIR/.apt) turns the machine's own "deb" entries into "deb-src" ones
# (same mirrors, suites, components and keys), fetches their source indexes into DIR/.apt
# and runs `apt-get source --download-only` there. Nothing is left for a later apt-get
# update to trip over. Usage: scripts/apt-source.sh PACKAGE DIR
set -euo pipefail
package=${1:?usage: apt-source.sh PACKAGE DIR}
dir=${2:?usage: apt-source.sh PACKAGE DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
apt=$dir/.apt
rm -rf "$apt"
mkdir -p "$apt/parts" "$apt/lists/partial" "$apt/cache/archives/partial"
: > "$apt/sources.list"

# One-line entries: deb [options] URI SUITE COMPONENTS -> deb-src ...
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [[ -f $f ]] && sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" >> "$apt/sources.list"
done
# deb822 entries: Types: deb -> Types: deb-src (a stanza already listing deb-src stays as it is).
for f in /etc/apt/sources.list.d/*.sources; do
  [[ -f $f ]] && sed -E 's/^Types:[[:space:]]*deb([[:space:]]*)$/Types: deb-src/' "$f" > "$apt/parts/$(basename "$f")"
done

options=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/parts"
  -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "APT::Sandbox::User=root")
apt-get "${options[@]}" update -q >/dev/null
(cd "$dir" && apt-get "${options[@]}" source --download-only "$package" >/dev/null 2>"$apt/source.err") || { cat "$apt/source.err" >&2; exit 1; }
ls "$dir"/"${package}"_*.dsc >/dev/null 2>&1 || { echo "apt-source: no ${package}_*.dsc downloaded into $dir (no deb-src for the machine's mirrors?)" >&2; exit 1; }
