/** The package ships no types: it parses Prometheus' text exposition format into metric families. */
declare module 'parse-prometheus-text-format' {
  export interface MetricFamily {
    name: string
    help: string
    type: string
    metrics: Array<{ value?: string; count?: string; labels?: Record<string, string>; buckets?: Record<string, string> }>
  }
  export default function parsePrometheusTextFormat(text: string): MetricFamily[]
}
