#!/usr/bin/env bash
# mode: install. Puts cairn on the job's PATH: a release archive checked against its published
# SHA-256 (INPUT_VERSION, default latest; INPUT_REPOSITORY, default cairn-dev/cairn; or
# INPUT_DOWNLOAD_URL, a base URL holding cairn-<target>.tar.gz and .sha256), or a binary already
# on disk (INPUT_CAIRN_PATH). Never installs an archive whose checksum does not match.
set -euo pipefail
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
dest="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/cairn/bin"
mkdir -p "$dest"

die() { echo "::error title=cairn install::$*" >&2; exit 2; }

if [ -n "${INPUT_CAIRN_PATH:-}" ]; then
  [ -x "$INPUT_CAIRN_PATH" ] || die "cairn-path $INPUT_CAIRN_PATH is not an executable"
  install -m 0755 "$INPUT_CAIRN_PATH" "$dest/cairn"
  source_desc="$INPUT_CAIRN_PATH"
else
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) target=x86_64-unknown-linux-musl ;;
    Linux-aarch64) target=aarch64-unknown-linux-musl ;;
    Darwin-arm64) target=aarch64-apple-darwin ;;
    Darwin-x86_64) target=x86_64-apple-darwin ;;
    *) die "no cairn release for $(uname -s)-$(uname -m)" ;;
  esac
  version="${INPUT_VERSION:-latest}"
  repo="${INPUT_REPOSITORY:-cairn-dev/cairn}"
  if [ -n "${INPUT_DOWNLOAD_URL:-}" ]; then
    base="${INPUT_DOWNLOAD_URL%/}"
  elif [ "$version" = "latest" ]; then
    base="https://github.com/$repo/releases/latest/download"
  else
    base="https://github.com/$repo/releases/download/v${version#v}"
  fi
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  archive="cairn-$target.tar.gz"
  curl -fsSL --retry 3 -o "$tmp/$archive" "$base/$archive" || die "cannot download $base/$archive"
  curl -fsSL --retry 3 -o "$tmp/$archive.sha256" "$base/$archive.sha256" || die "cannot download $base/$archive.sha256"
  want="$(cut -d' ' -f1 < "$tmp/$archive.sha256")"
  got="$(sha256sum "$tmp/$archive" | cut -d' ' -f1)"
  [ "$want" = "$got" ] || die "checksum mismatch for $archive: expected $want, got $got"
  tar -xzf "$tmp/$archive" -C "$tmp"
  [ -f "$tmp/cairn" ] || die "$archive has no cairn binary at its root"
  install -m 0755 "$tmp/cairn" "$dest/cairn"
  source_desc="$base/$archive (sha256 $got)"
fi

echo "$dest" >> "${GITHUB_PATH:-/dev/null}"
installed="$("$dest/cairn" --version)"
echo "installed $installed from $source_desc" >&2
printf 'version=%s\n' "${installed#cairn }" >> "${GITHUB_OUTPUT:-/dev/null}"
printf '### ✅ cairn install\n\n`%s` from `%s`\n\n' "$installed" "$source_desc" >> "$summary"
