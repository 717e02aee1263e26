/** The parser's shape, as far as the tests read it (the package ships no types). */
declare module "parse-prometheus-text-format" {
  interface Sample {
    /** Counters and gauges. */
    value?: string;
    /** Histograms and summaries. */
    count?: string;
    sum?: string;
    buckets?: Record<string, string>;
    labels?: Record<string, string>;
  }
  interface Family {
    name: string;
    help: string;
    type: string;
    metrics: Sample[];
  }
  export default function parsePrometheusTextFormat(text: string): Family[];
}
