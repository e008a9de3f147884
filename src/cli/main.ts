#!/usr/bin/env node
// The `content-trust` command's entry (dist/cli.js): the Node.js version is
// checked before the program is loaded, in syntax and calls old Node.js
// versions know, so an old one prints one line saying what is needed instead
// of a stack trace. Keep this file plain JavaScript: no types, no static imports.
// The minimum is package.json's engines.node (undici 8, bundled, needs it).
var NEEDED = [22, 19, 0];
var have = process.versions.node.split('.').map(Number);
// From the patch up: a part above the needed one is new enough, a part below
// it is not, an equal one leaves it to the parts after it.
var newEnough = NEEDED.reduceRight(function (rest, need, i) {
  var part = Number(have[i]);
  return part > need || (part === need && rest);
}, true);
if (newEnough) {
  void import('./program.ts');
} else {
  process.stderr.write('content-trust needs Node.js ' + NEEDED.join('.') + ' or newer; this is Node.js ' + process.version + ' (' + process.execPath + '). Install a current Node.js LTS and run it again.\n');
  process.exitCode = 1;
}
