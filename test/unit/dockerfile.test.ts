import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDockerfile } from '../../src/action/dockerfile.ts';
import { assertCode } from './helpers/errors.ts';

const images = (text: string) => parseDockerfile(text, 'Dockerfile').images.map((i) => i.image);

describe('parseDockerfile', () => {
  it('reads FROM lines: --platform dropped, AS stages and scratch skipped, duplicates once, lines reported', () => {
    const parsed = parseDockerfile(
      `# syntax=docker/dockerfile:1
FROM --platform=$BUILDPLATFORM golang:1.23 AS build
RUN go build
from node:24-slim as assets
FROM build AS test
FROM scratch
COPY --from=build /app /app
FROM golang:1.23
FROM Build
`,
      'Dockerfile',
    );
    assert.deepEqual(parsed.images, [
      { image: 'golang:1.23', line: 2 },
      { image: 'node:24-slim', line: 4 },
    ]);
  });

  it('substitutes global ARGs ($A, ${A}, ${A:-x}, ${A:+x}), quoted defaults, several per ARG line', () => {
    assert.deepEqual(
      images(`ARG REGISTRY=ghcr.io/org VERSION="1.2"
ARG VARIANT
ARG SUFFIX=-slim
FROM \${REGISTRY}/base:$VERSION\${SUFFIX}
FROM \${REGISTRY}/tool:\${VARIANT:-latest}
FROM alpine:3\${VARIANT:+-x}
`),
      ['ghcr.io/org/base:1.2-slim', 'ghcr.io/org/tool:latest', 'alpine:3'],
    );
  });

  it('ARGs after the first FROM do not reach later FROM lines', () => {
    assertCode(() => images('FROM alpine:3\nARG TAG=1\nFROM node:$TAG'), 'DOCKERFILE_INVALID', /line 3: FROM uses \$TAG, which no ARG before the first FROM gives a default/);
  });

  it('joins continuation lines, skips comments inside them, honours # escape=`', () => {
    assert.deepEqual(images('FROM \\\n  # comment\n  --platform=linux/amd64 \\\n  debian:12 \\\n  AS base\n'), ['debian:12']);
    assert.deepEqual(images('# escape=`\nFROM `\n  mcr.microsoft.com/windows/nanoserver:ltsc2022\n'), ['mcr.microsoft.com/windows/nanoserver:ltsc2022']);
  });

  it('keeps tag@digest pins; reports digest-only pins apart', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    const parsed = parseDockerfile(`FROM alpine:3.20@${digest}\nFROM busybox@${digest}\n`, 'Dockerfile');
    assert.deepEqual(
      parsed.images.map((i) => i.image),
      [`alpine:3.20@${digest}`],
    );
    assert.deepEqual(
      parsed.digestOnly.map((i) => i.image),
      [`busybox@${digest}`],
    );
  });

  it('DOCKERFILE_INVALID without FROM, or with an unreadable FROM', () => {
    assertCode(() => images('RUN true\n'), 'DOCKERFILE_INVALID', /has no FROM/);
    assertCode(() => images('FROM a b c d\n'), 'DOCKERFILE_INVALID', /line 1: cannot read/);
  });
});
