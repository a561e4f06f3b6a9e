#!/usr/bin/env bash
# Sourced by the get-*.sh scripts: downloads packages from Debian testing (forky) / sid through a private apt state
# under .tools/apt. The machine's apt sources are never touched and nothing is installed system-wide.
#   testing_download <dest-dir> <package>...   (the .deb files end up in <dest-dir>)

testing_apt_init() {
  local tools="$1"
  apt_dir="$tools/apt"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/etc/preferences.d"
  local arch; arch="$(dpkg --print-architecture)"
  cat >"$apt_dir/etc/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian forky main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main
SRC
  [ -f "$apt_dir/status" ] || : >"$apt_dir/status"
  apt_opts=(
    -o "Dir::Etc::SourceList=$apt_dir/etc/sources.list"
    -o "Dir::Etc::SourceParts=-"
    -o "Dir::Etc::Preferences=$apt_dir/etc/preferences"
    -o "Dir::Etc::PreferencesParts=$apt_dir/etc/preferences.d"
    -o "Dir::State=$apt_dir"
    -o "Dir::State::Lists=$apt_dir/lists"
    -o "Dir::State::status=$apt_dir/status"
    -o "Dir::Cache=$apt_dir/cache"
    -o "APT::Architecture=$arch"
    -o "Debug::NoLocking=1"
  )
  # Package lists are refreshed at most once per run of a script (and reused when fresher than a day).
  if [ -z "$(find "$apt_dir/lists" -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n1)" ]; then
    apt-get "${apt_opts[@]}" -qq update >&2 || return 1
  fi
}

testing_download() {
  local dest="$1"; shift
  mkdir -p "$dest"
  ( cd "$dest" && apt-get -o APT::Sandbox::User=root "${apt_opts[@]}" -qq download "$@" >&2 )
}
