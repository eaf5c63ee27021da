// Minimal types for the parts of autocannon (https://github.com/mcollina/autocannon) the bench
// uses; the package ships no type declarations.
declare module 'autocannon' {
  type Histogram = { average: number; mean: number; max: number; p50: number; p90: number; p99: number; total: number };
  export type AutocannonResult = {
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    latency: Histogram;
    requests: Histogram;
  };
  export type AutocannonOptions = {
    url: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    connections?: number;
    duration?: number;
    workers?: number;
    timeout?: number;
  };
  export type AutocannonInstance = { stop(): void };
  function autocannon(
    options: AutocannonOptions,
    callback: (error: Error | null, result: AutocannonResult) => void,
  ): AutocannonInstance;
  export default autocannon;
}
