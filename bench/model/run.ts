// Entry for scripts/bench.mjs, which runs every bench/*/run.*: the model benchmark.
import './validate.js';
