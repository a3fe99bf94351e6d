// What a Query that reads one receive answers about a window written after one Prometheus replica
// of an HA pair stopped (finding B at 10k series with Prometheus' default queue). Each replica
// remote-writes over one kept-alive connection, so each receive holds whole replicas: which ones is
// the write Service's draw (round robin gives each replica its own receive; kube-proxy's random pick
// puts both on one receive half the time). For a window written by the survivors only:
//   - complete: the receive holds a replica that kept writing (its connection stays where it was);
//   - frozen:   it holds only the stopped replica, whose last values Query carries forward over the
//               window (the 5 min lookback): every point shows an earlier value, none is right;
//   - empty:    it holds no replica at all (both went to the other receive): no series.

export type ReaderAnswer = 'complete' | 'frozen' | 'empty';

/**
 * The answer of a Query reading one receive, from the Prometheus replicas whose samples that receive
 * held while all of them wrote, the replicas still writing, and the one stopped.
 */
export function answerOfReceiveReader(held: readonly string[], writers: readonly string[], stopped: string): ReaderAnswer {
  if (held.some((p) => writers.includes(p))) return 'complete';
  return held.includes(stopped) ? 'frozen' : 'empty';
}
