#!/bin/sh
# The build of the demo project: POSIX sh only. Run from the directory that holds src/.
set -eu
mkdir -p dist/hello
cp src/hello.py src/requirements.txt dist/hello/
printf '1.0.0\n' > dist/hello/VERSION
