#!/usr/bin/env bash
# The cairn GitHub Action (action.yml at the repository root runs this with INPUT_* variables).
# Modes: install | record | attest | verify | promote. Each mode appends a Markdown section to
# $GITHUB_STEP_SUMMARY and writes its outputs to $GITHUB_OUTPUT. Needs bash, coreutils, jq and
# curl (all on GitHub-hosted runners). Tested locally by crates/cairn-cli/tests/action.rs with
# the variables a runner sets.
set -euo pipefail

mode="${INPUT_MODE:-}"
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
outputs="${GITHUB_OUTPUT:-/dev/null}"
work="${INPUT_WORK_DIR:-.cairn}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() { echo "::error title=cairn ${mode:-action}::$*" >&2; exit 2; }
cairn_bin() {
  if [ -n "${CAIRN_BIN:-}" ]; then echo "$CAIRN_BIN"; else command -v cairn || die "cairn is not installed: run the action with mode: install first"; fi
}
# Lists in inputs are newline- or space-separated (YAML block scalars welcome).
list() { printf '%s\n' "${1:-}" | tr ' ' '\n' | sed '/^[[:space:]]*$/d'; }
output() { printf '%s=%s\n' "$1" "$2" >> "$outputs"; }
# Runs cairn, shows its output in the log, keeps it for the summary; returns cairn's exit code.
run_cairn() {
  local log="$work/last.log" code=0
  mkdir -p "$work"
  echo "+ cairn $*" >&2
  "$(cairn_bin)" "$@" > "$log" 2>&1 || code=$?
  cat "$log" >&2
  return "$code"
}
section() { # title, exit code
  local icon="✅" verdict="passed"
  if [ "$2" -ne 0 ]; then icon="❌"; verdict="failed (exit $2)"; fi
  {
    printf '### %s cairn %s: %s\n\n' "$icon" "$1" "$verdict"
    printf '<details><summary>output</summary>\n\n```text\n'
    cat "$work/last.log" 2>/dev/null || true
    printf '```\n\n</details>\n\n'
  } >> "$summary"
}
signing_args() {
  if [ -n "${INPUT_KEY:-}" ]; then
    printf '%s\n' --key "$INPUT_KEY"
    [ "${INPUT_TLOG_UPLOAD:-true}" = "true" ] && printf '%s\n' --tlog-upload
  else
    printf '%s\n' --keyless --no-interactive
  fi
  [ -n "${INPUT_TRUST_CONFIG:-}" ] && printf '%s\n' --trust-config "$INPUT_TRUST_CONFIG"
  return 0
}
trust_args() {
  [ -n "${INPUT_TRUST_CONFIG:-}" ] && printf '%s\n' --trust-config "$INPUT_TRUST_CONFIG"
  return 0
}

case "$mode" in
  install)
    exec bash "$here/install.sh"
    ;;

  record)
    [ -n "${INPUT_STEP:-}" ] || die "record needs the step input"
    links="${INPUT_LINKS_DIR:-$work/links}"
    mkdir -p "$links"
    args=(run --step "$INPUT_STEP" --out "$links")
    while IFS= read -r m; do args+=(--materials "$m"); done < <(list "${INPUT_MATERIALS:-}")
    while IFS= read -r p; do args+=(--products "$p"); done < <(list "${INPUT_PRODUCTS:-}")
    [ -n "${INPUT_KEY:-}" ] && args+=(--key "$INPUT_KEY")
    if [ -n "${INPUT_COMMAND:-}" ]; then
      args+=(--shell -- "$INPUT_COMMAND")
    else
      args+=(--no-command)
    fi
    code=0; run_cairn "${args[@]}" || code=$?
    section "record ${INPUT_STEP}" "$code"
    output links-dir "$links"
    exit "$code"
    ;;

  attest)
    subjects=()
    while IFS= read -r s; do subjects+=("$s"); done < <(list "${INPUT_SUBJECTS:-}")
    [ -n "${INPUT_IMAGE:-}" ] && subjects+=("$INPUT_IMAGE")
    [ "${#subjects[@]}" -gt 0 ] || die "attest needs subjects (files) and/or image"
    out="${INPUT_BUNDLE_DIR:-$work/attestations}"
    mkdir -p "$out"
    subject_args=()
    for s in "${subjects[@]}"; do subject_args+=(--subject "$s"); done
    mapfile -t sign < <(signing_args)
    bundles=()
    code=0
    {
      printf '### cairn attest\n\n| attestation | subjects | bundle |\n|---|---|---|\n'
    } >> "$summary"
    if [ "${INPUT_PROVENANCE:-true}" = "true" ]; then
      prov=(provenance "${subject_args[@]}" --out "$out/provenance.json")
      links="${INPUT_LINKS_DIR:-$work/links}"
      [ -d "$links" ] && prov+=(--links "$links")
      run_cairn "${prov[@]}" || code=$?
      if [ "$code" -eq 0 ]; then
        run_cairn attest "$out/provenance.json" --type slsa "${subject_args[@]}" "${sign[@]}" \
          --bundle "$out/provenance.sigstore.json" || code=$?
      fi
      [ "$code" -eq 0 ] && bundles+=("$out/provenance.sigstore.json") &&
        printf '| SLSA provenance v1 | %s | `%s` |\n' "${subjects[*]}" "$out/provenance.sigstore.json" >> "$summary"
      output provenance-bundle "$out/provenance.sigstore.json"
    fi
    if [ "$code" -eq 0 ] && [ "${INPUT_SBOM:-true}" = "true" ]; then
      source="${INPUT_SBOM_SOURCE:-${INPUT_IMAGE:-${subjects[0]}}}"
      format="${INPUT_SBOM_FORMAT:-spdx-json}"
      type=spdx; ext=spdx.json
      [ "$format" = "cyclonedx-json" ] && type=cyclonedx && ext=cdx.json
      run_cairn sbom "$source" --format "$format" --out "$out/sbom.$ext" || code=$?
      if [ "$code" -eq 0 ]; then
        run_cairn attest "$out/sbom.$ext" --type "$type" "${subject_args[@]}" "${sign[@]}" \
          --bundle "$out/sbom.sigstore.json" || code=$?
      fi
      [ "$code" -eq 0 ] && bundles+=("$out/sbom.sigstore.json") &&
        printf '| SBOM (%s) of `%s` | %s | `%s` |\n' "$format" "$source" "${subjects[*]}" "$out/sbom.sigstore.json" >> "$summary"
      output sbom-bundle "$out/sbom.sigstore.json"
    fi
    printf '\n' >> "$summary"
    if [ "$code" -eq 0 ] && [ "${INPUT_ATTACH:-false}" = "true" ]; then
      [ -n "${INPUT_IMAGE:-}" ] || die "attach: true needs the image input"
      attach=(attach "$INPUT_IMAGE")
      for b in "${bundles[@]}"; do attach+=(--bundle "$b"); done
      run_cairn "${attach[@]}" || code=$?
      section "attach to ${INPUT_IMAGE}" "$code"
    elif [ "$code" -ne 0 ]; then
      section "attest" "$code"
    fi
    output bundles "${bundles[*]:-}"
    exit "$code"
    ;;

  verify)
    mapfile -t trust < <(trust_args)
    if [ -n "${INPUT_IMAGE:-}" ]; then
      [ -n "${INPUT_POLICY:-}" ] || die "verify of an image needs the policy input"
      what="verify image ${INPUT_IMAGE}"
      args=(verify image "$INPUT_IMAGE" --policy "$INPUT_POLICY" "${trust[@]}")
    elif [ -n "${INPUT_LAYOUT:-}" ]; then
      [ -n "${INPUT_LAYOUT_KEYS:-}" ] || die "verify of a layout needs layout-keys"
      what="verify layout ${INPUT_LAYOUT}"
      args=(verify layout "$INPUT_LAYOUT" --links "${INPUT_LINKS_DIR:-$work/links}")
      while IFS= read -r k; do args+=(--layout-key "$k"); done < <(list "$INPUT_LAYOUT_KEYS")
    elif [ -n "${INPUT_ARTIFACT:-}" ]; then
      [ -n "${INPUT_BUNDLE:-}" ] || die "verify of an artifact needs the bundle input"
      what="verify artifact ${INPUT_ARTIFACT}"
      args=(verify artifact "$INPUT_ARTIFACT" --bundle "$INPUT_BUNDLE" "${trust[@]}")
      if [ -n "${INPUT_PUBLIC_KEY:-}" ]; then
        args+=(--key "$INPUT_PUBLIC_KEY")
      else
        [ -n "${INPUT_CERTIFICATE_IDENTITY:-}" ] && args+=(--certificate-identity "$INPUT_CERTIFICATE_IDENTITY")
        [ -n "${INPUT_CERTIFICATE_IDENTITY_REGEXP:-}" ] && args+=(--certificate-identity-regexp "$INPUT_CERTIFICATE_IDENTITY_REGEXP")
        args+=(--certificate-oidc-issuer "${INPUT_CERTIFICATE_OIDC_ISSUER:-https://token.actions.githubusercontent.com}")
      fi
    else
      die "verify needs image + policy, layout + layout-keys, or artifact + bundle"
    fi
    code=0; run_cairn "${args[@]}" || code=$?
    section "$what" "$code"
    output verified "$([ "$code" -eq 0 ] && echo true || echo false)"
    exit "$code"
    ;;

  promote)
    [ -n "${INPUT_IMAGE:-}" ] && [ -n "${INPUT_DESTINATION:-}" ] && [ -n "${INPUT_POLICY:-}" ] ||
      die "promote needs image, destination and policy"
    mapfile -t trust < <(trust_args)
    args=(promote "$INPUT_IMAGE" "$INPUT_DESTINATION" --policy "$INPUT_POLICY" "${trust[@]}")
    [ "${INPUT_DRY_RUN:-false}" = "true" ] && args+=(--dry-run)
    code=0; run_cairn "${args[@]}" || code=$?
    section "promote ${INPUT_IMAGE} → ${INPUT_DESTINATION}" "$code"
    output promoted "$([ "$code" -eq 0 ] && echo true || echo false)"
    exit "$code"
    ;;

  *)
    die "unknown mode '${mode}': use install, record, attest, verify or promote"
    ;;
esac
