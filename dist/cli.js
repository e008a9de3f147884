#!/usr/bin/env node
import{createRequire as __ctaCreateRequire}from'node:module';const require=__ctaCreateRequire(import.meta.url);
var e=[22,19,0],s=process.versions.node.split(".").map(Number),r=s[0]!==e[0]?s[0]>e[0]:s[1]!==e[1]?s[1]>e[1]:s[2]>=e[2];r?import("./chunks/program-6DYFDO7O.js"):(process.stderr.write("content-trust needs Node.js "+e.join(".")+" or newer; this is Node.js "+process.version+" ("+process.execPath+`). Install a current Node.js LTS and run it again.
`),process.exitCode=1);
