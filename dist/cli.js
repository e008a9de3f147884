#!/usr/bin/env node
import{createRequire as __ctaCreateRequire}from'node:module';const require=__ctaCreateRequire(import.meta.url);
var s=[22,19,0],t=process.versions.node.split(".").map(Number),i=s.reduceRight(function(n,e,o){var r=Number(t[o]);return r>e||r===e&&n},!0);i?import("./chunks/program-P53SD3UV.js"):(process.stderr.write("content-trust needs Node.js "+s.join(".")+" or newer; this is Node.js "+process.version+" ("+process.execPath+`). Install a current Node.js LTS and run it again.
`),process.exitCode=1);
