#!/bin/sh
# Copies the front-end libraries of package.json (exact versions, from the npm
# registry) into Podium's static files, each with its licence. The copies are
# committed, so that `make demo` needs no Node.js; run `make vendor` after changing
# a version in package.json.
set -eu
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund
rm -rf static/vendor tests/vendor
mkdir -p static/vendor/pico static/vendor/echarts static/vendor/zxing tests/vendor/axe-core
cp node_modules/@picocss/pico/css/pico.min.css node_modules/@picocss/pico/LICENSE.md static/vendor/pico/
cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE node_modules/echarts/NOTICE static/vendor/echarts/
cp node_modules/@zxing/library/umd/index.min.js static/vendor/zxing/zxing.min.js
cp node_modules/@zxing/library/LICENSE static/vendor/zxing/
cp node_modules/axe-core/axe.min.js node_modules/axe-core/LICENSE tests/vendor/axe-core/
node -e '
const fs = require("fs");
const names = ["@picocss/pico", "echarts", "@zxing/library", "axe-core"];
const lines = names.map(n => n + "@" + require("./node_modules/" + n + "/package.json").version);
fs.writeFileSync("static/vendor/VERSIONS.txt", lines.join("\n") + "\n");
'
