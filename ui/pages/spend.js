/** Spend: the ledger's report (`/global/spend/report`) by day, model, key and team; a virtual key sees its own. */
import { useEffect, useState } from 'preact/hooks';
import { getJson } from '../api.js';
import { BarChart, ErrorMessage, html, Loading } from '../components.js';
import { integer, usd } from '../lib/format.js';
import { spendPerDay, totalsByGroup } from '../lib/spend-report.js';

const PERIODS = [7, 30, 90];
const GROUPS = ['day', 'model', 'api_key', 'team'];

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

function DayColumns({ days }) {
  const largest = Math.max(0, ...days.map((day) => day.spend));
  const width = 100 / Math.max(1, days.length);
  const total = days.reduce((sum, day) => sum + day.spend, 0);
  return html`<figure class="chart">
    <figcaption>Spend by day (${usd(total)} in all)</figcaption>
    <svg class="columns" viewBox="0 0 100 40" preserveAspectRatio="none" role="img" aria-label=${`Spend per day, highest ${usd(largest)}`}>
      ${days.map((day, i) => {
        const height = largest > 0 ? (day.spend / largest) * 38 : 0;
        return html`<rect x=${i * width + width * 0.1} y=${40 - height} width=${width * 0.8} height=${height}><title>${day.name}: ${usd(day.spend)}, ${integer(day.requests)} requests</title></rect>`;
      })}
    </svg>
    <div class="columns-axis"><span>${days[0]?.name}</span><span>${days.at(-1)?.name}</span></div>
  </figure>`;
}

export function SpendPage({ session }) {
  const [period, setPeriod] = useState(30);
  const [reports, setReports] = useState(null);
  const [error, setError] = useState(null);
  const end = isoDay(new Date());
  const start = isoDay(new Date(Date.now() - (period - 1) * 86_400_000));
  useEffect(() => {
    setReports(null);
    setError(null);
    Promise.all(GROUPS.map((group) => getJson(`/global/spend/report?group_by=${group}&start_date=${start}&end_date=${end}`)))
      .then((answers) => setReports(Object.fromEntries(GROUPS.map((group, i) => [group, answers[i]]))), setError);
  }, [period]);
  const bars = (totals) => totals.map((total) => ({ label: total.name, value: total.spend, text: `${usd(total.spend)} · ${integer(total.tokens)} tokens` }));
  return html`<section aria-labelledby="spend-title">
    <h1 id="spend-title">Spend</h1>
    <p class="muted">${session.is_master ? 'Every key.' : 'This key only.'} From the spend ledger: live requests and finished batches.</p>
    <div class="filters">
      <label>Period
        <select value=${period} onChange=${(event) => setPeriod(Number(event.currentTarget.value))}>
          ${PERIODS.map((days) => html`<option value=${days}>last ${days} days</option>`)}
        </select>
      </label>
    </div>
    <${ErrorMessage} error=${error} />
    ${reports === null && error === null
      ? html`<${Loading} />`
      : reports && html`<div class="charts">
          <${DayColumns} days=${spendPerDay(reports.day, start, end)} />
          <${BarChart} title="By model" rows=${bars(totalsByGroup(reports.model, 'model'))} />
          <${BarChart} title="By key" rows=${bars(totalsByGroup(reports.api_key, 'api_key', '(master key)'))} />
          <${BarChart} title="By team" rows=${bars(totalsByGroup(reports.team, 'team', '(no team)'))} />
        </div>`}
  </section>`;
}
