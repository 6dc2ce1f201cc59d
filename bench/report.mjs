// Turns the bench's summary into a text table, a markdown page and an SVG bar chart.
// No dependencies; used by bench/run.mjs.

export const CLIENTS = ['ours', 'anchor', 'fetch'];
export const CLIENT_LABELS = {
  ours: 'ours (replit-object-storage-wasm)',
  anchor: 'anchor (@replit/object-storage 1.0.0)',
  fetch: 'fetch (bare JSON API calls)',
};
const COLORS = { ours: '#2f7ed8', anchor: '#e8743b', fetch: '#8a8a8a' };

export function fmt(value, unit) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  if (typeof value === 'string') return value;
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toFixed(digits) + (unit ? ` ${unit}` : '');
}

export function ratio(a, b) {
  if (typeof a !== 'number' || typeof b !== 'number' || !(b > 0) || Number.isNaN(a)) return null;
  return a / b;
}

const fmtRatio = (r) => (r === null ? '—' : `${r.toFixed(2)}x`);

/** Rows of [figure, ours, anchor, fetch, ours/fetch, ours/anchor]. */
function tableRows(summary) {
  return summary.rows.map((row) => {
    const v = row.values;
    const cell = (c) => (row.errors?.[c] ? 'FAILED' : fmt(v[c]));
    return [
      row.better === 'n/a' ? row.label : `${row.label} (${row.unit}, ${row.better} is better)`,
      cell('ours'),
      cell('anchor'),
      cell('fetch'),
      fmtRatio(ratio(v.ours, v.fetch)),
      fmtRatio(ratio(v.ours, v.anchor)),
    ];
  });
}

const HEADER = ['figure', 'ours', 'anchor', 'fetch', 'ours/fetch', 'ours/anchor'];

export function renderText(summary) {
  const rows = tableRows(summary);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  ')];
  let group = null;
  summary.rows.forEach((row, i) => {
    if (row.group !== group) {
      if (group !== null) out.push('');
      out.push(`[${row.group}]`);
      group = row.group;
    }
    out.push(line(rows[i]));
  });
  out.push('');
  out.push('goals:');
  for (const g of summary.goals) out.push(`  [${g.status === 'met' ? 'met   ' : g.status === 'missed' ? 'MISSED' : 'n/a   '}] ${g.text}`);
  const foreign = Object.entries(summary.foreignCpu ?? {});
  if (foreign.length) {
    out.push('');
    out.push(`CPU share taken by other processes on the machine during each scenario: ${foreign.map(([k, v]) => `${k} ${Math.round(v * 100)}%`).join(', ')}`);
  }
  if (summary.failures.length) {
    out.push('');
    out.push('failures:');
    for (const f of summary.failures) out.push(`  ${f}`);
  }
  return out.join('\n');
}

export function renderMarkdown(summary, meta) {
  const rows = tableRows(summary);
  const esc = (s) => String(s).replace(/\|/g, '\\|');
  const out = [];
  out.push(`# Benchmark: replit-object-storage-wasm vs @replit/object-storage vs bare fetch`);
  out.push('');
  out.push(`Run ${meta.date}${meta.quick ? ' (quick mode: smaller sizes and counts)' : ''} with \`npm run bench\`.`);
  out.push('');
  out.push(`- Machine: ${meta.machine.nproc} cores, ${meta.machine.cpuModel}, ${meta.machine.ramGiB} GiB RAM, ${meta.machine.os}`);
  out.push(`- Node ${meta.machine.node}; emulator: fake-gcs-server (${meta.emulator}, in memory) on loopback`);
  out.push(`- ours: replit-object-storage-wasm ${meta.versions.ours} (commit ${meta.versions.commit}, wasm ${meta.versions.wasmKiB} KiB); anchor: @replit/object-storage ${meta.versions.anchor} over @google-cloud/storage ${meta.versions.googleCloudStorage}`);
  if (meta.load) {
    const foreign = Object.entries(meta.load.otherProcessesCpuShare ?? {});
    out.push(
      `- Machine load: ${Math.round(meta.load.cpuBusyBefore * 100)}% CPU busy just before the run` +
        (foreign.length ? `; other processes (not the bench, its workers or the emulator) took ${foreign.map(([k, v]) => `${Math.round(v * 100)}%`).join(' / ')} of the machine's CPU during ${foreign.map(([k]) => k).join(' / ')}` : ''),
    );
  }
  out.push(`- Each figure comes from a fresh Node process per client and scenario; medians over ${meta.params.coldRuns} cold starts, ${meta.params.smallRuns} small-object run(s) and ${meta.params.largeRuns} large-object run(s).`);
  out.push('');
  out.push(`| ${HEADER.join(' | ')} |`);
  out.push(`|${HEADER.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
  let group = null;
  summary.rows.forEach((row, i) => {
    if (row.group !== group) {
      out.push(`| **${esc(row.group)}** | | | | | |`);
      group = row.group;
    }
    out.push(`| ${rows[i].map(esc).join(' | ')} |`);
  });
  out.push('');
  out.push('Goals:');
  out.push('');
  for (const g of summary.goals) out.push(`- **${g.status}**: ${esc(g.text)}`);
  if (summary.failures.length) {
    out.push('');
    out.push('Failures:');
    out.push('');
    for (const f of summary.failures) out.push(`- ${esc(f)}`);
  }
  out.push('');
  out.push('How the figures are taken:');
  out.push('');
  for (const n of meta.notes) out.push(`- ${n}`);
  out.push('');
  return out.join('\n');
}

const xmlEsc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Panels of horizontal bars, one panel per unit, each scaled to its own maximum. */
export function renderSvg(summary, meta) {
  const panels = [];
  for (const row of summary.rows) {
    if (!row.chart) continue;
    let panel = panels.find((p) => p.title === row.chart);
    if (!panel) panels.push((panel = { title: row.chart, unit: row.unit, better: row.better, rows: [] }));
    panel.rows.push(row);
  }
  const W = 860;
  const labelW = 250;
  const barMax = W - labelW - 110;
  const barH = 11;
  const rowGap = 8;
  const panelGap = 26;
  const parts = [];
  let y = 58;
  for (const panel of panels) {
    const max = Math.max(...panel.rows.flatMap((r) => CLIENTS.map((c) => r.values[c] ?? 0)), 1e-9);
    parts.push(`<text x="16" y="${y}" class="panel">${xmlEsc(panel.title)} (${xmlEsc(panel.unit)}, ${panel.better} is better)</text>`);
    y += 12;
    for (const row of panel.rows) {
      const h = CLIENTS.length * barH;
      parts.push(`<text x="${labelW - 8}" y="${y + h / 2 + 4}" class="label" text-anchor="end">${xmlEsc(row.short ?? row.label)}</text>`);
      CLIENTS.forEach((c, i) => {
        const v = row.values[c];
        const by = y + i * barH;
        if (typeof v === 'number' && !Number.isNaN(v)) {
          const w = Math.max(1, (v / max) * barMax);
          parts.push(`<rect x="${labelW}" y="${by}" width="${w.toFixed(1)}" height="${barH - 2}" fill="${COLORS[c]}"><title>${c}: ${xmlEsc(fmt(v, row.unit))}</title></rect>`);
          parts.push(`<text x="${(labelW + w + 4).toFixed(1)}" y="${by + barH - 3}" class="value">${xmlEsc(fmt(v))}</text>`);
        } else {
          parts.push(`<text x="${labelW + 2}" y="${by + barH - 3}" class="value">${row.errors?.[c] ? 'failed' : 'n/a'}</text>`);
        }
      });
      y += h + rowGap;
    }
    y += panelGap - rowGap;
  }
  const H = y + 8;
  const legend = CLIENTS.map(
    (c, i) => `<rect x="${16 + i * 270}" y="30" width="10" height="10" fill="${COLORS[c]}"/><text x="${30 + i * 270}" y="39" class="label">${xmlEsc(CLIENT_LABELS[c])}</text>`,
  ).join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    '<style>.title{font-size:15px;font-weight:bold}.panel{font-size:13px;font-weight:bold}.label{font-size:11px}.value{font-size:10px;fill:#333}</style>',
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="16" y="20" class="title">${xmlEsc(`replit-object-storage-wasm benchmark, ${meta.date.slice(0, 10)}: ${meta.machine.nproc} cores, Node ${meta.machine.node}${meta.quick ? ' (quick)' : ''}`)}</text>`,
    legend,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
