/**
 * Chart.js through react-chartjs-2, registered once, with an accessible name and a data table
 * fallback for screen readers.
 *
 * @example
 *   <LineChart label={t('home.eventsPerDay')} labels={days} series={[{ label: t('home.events'), data: counts }]} />
 */
import {
  BarElement, CategoryScale, Chart as ChartJS, Filler, Legend, LinearScale, LineElement, PointElement, Tooltip, ArcElement,
} from 'chart.js';
import { Bar, Line } from 'react-chartjs-2';

ChartJS.register(CategoryScale, LinearScale, PointElement, LineElement, BarElement, ArcElement, Filler, Tooltip, Legend);

const PALETTE = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];

export interface Series {
  label: string;
  data: number[];
}

interface Props {
  /** What the chart shows (its accessible name and caption). */
  label: string;
  labels: string[];
  series: Series[];
  height?: number;
  stacked?: boolean;
}

function datasets(series: Series[], fill: boolean) {
  return series.map((s, i) => ({
    label: s.label, data: s.data, borderColor: PALETTE[i % PALETTE.length], backgroundColor: `${PALETTE[i % PALETTE.length]}55`, fill, tension: 0.2,
  }));
}

function Fallback({ label, labels, series }: Props) {
  return (
    <table className="visually-hidden">
      <caption>{label}</caption>
      <thead><tr><th scope="col" />{series.map((s) => <th scope="col" key={s.label}>{s.label}</th>)}</tr></thead>
      <tbody>{labels.map((l, i) => <tr key={l}><th scope="row">{l}</th>{series.map((s) => <td key={s.label}>{s.data[i]}</td>)}</tr>)}</tbody>
    </table>
  );
}

export function LineChart(props: Props) {
  return (
    <figure className="chart" style={{ height: props.height ?? 240 }}>
      <Line aria-label={props.label} role="img" data={{ labels: props.labels, datasets: datasets(props.series, props.series.length === 1) }}
        options={{ responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { display: props.series.length > 1 } }, scales: { y: { beginAtZero: true, stacked: props.stacked ?? false } } }} />
      <Fallback {...props} />
    </figure>
  );
}

export function BarChart(props: Props) {
  return (
    <figure className="chart" style={{ height: props.height ?? 240 }}>
      <Bar aria-label={props.label} role="img" data={{ labels: props.labels, datasets: datasets(props.series, false) }}
        options={{ responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { display: props.series.length > 1 } }, scales: { x: { stacked: props.stacked ?? false }, y: { beginAtZero: true, stacked: props.stacked ?? false } } }} />
      <Fallback {...props} />
    </figure>
  );
}
