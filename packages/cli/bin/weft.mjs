#!/usr/bin/env node
// The command's code is built into dist. This file is in the repository from
// the start, so pnpm can link the `weft` command at install time, before the
// first build.
import "../dist/bin.js";
