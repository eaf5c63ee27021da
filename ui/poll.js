/** `usePolled(load, ms)`: loads now, then again every `ms` while `keepPolling(data)` says so and the tab is visible. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export function usePolled(load, ms, keepPolling = () => true, deps = []) {
  const [state, setState] = useState({ data: undefined, error: null });
  const latest = useRef(state);
  latest.current = state;
  const refresh = useCallback(async () => {
    try {
      const data = await load();
      setState({ data, error: null });
      return data;
    } catch (error) {
      setState((previous) => ({ data: previous.data, error }));
      return undefined;
    }
  }, deps);
  useEffect(() => {
    let timer;
    let stopped = false;
    const tick = async () => {
      const data = document.hidden ? latest.current.data : await refresh();
      if (!stopped && (data === undefined || keepPolling(data))) timer = setTimeout(tick, ms);
    };
    tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [refresh]);
  return { ...state, refresh };
}
