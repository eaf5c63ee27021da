/**
 * `usePolled(load, next, deps)`: loads now, then again after `next(data)` milliseconds for as
 * long as it answers a number (null: stop), skipping the loads while the tab is hidden.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export function usePolled(load, next = () => null, deps = []) {
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
      const wait = next(data);
      if (!stopped && wait !== null) timer = setTimeout(tick, wait);
    };
    tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [refresh]);
  return { ...state, refresh };
}
