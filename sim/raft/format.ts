// Compact one-line text for raft messages and entries, for traces and scripted tests.

import type { Entry, Message } from '../../raft/index.js';

const decoder = new TextDecoder();

export function formatEntry(e: Entry): string {
  const body =
    e.kind === 'normal'
      ? decoder.decode(e.data)
      : e.kind === 'config'
        ? `conf(v=${e.membership.voters.join(',')} l=${e.membership.learners.join(',')})`
        : 'noop';
  return `${e.term}/${e.index} ${body}`;
}

export function formatMessage(m: Message): string {
  const h = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  switch (m.type) {
    case 'append':
      return (
        `${h} prev=${m.prevTerm}/${m.prevIndex} commit=${m.commit}` +
        `${m.entries.length ? ` entries=[${m.entries.map(formatEntry).join(', ')}]` : ''}`
      );
    case 'appendResp':
      return m.reject ? `${h} reject index=${m.index} hint=${m.hintTerm}/${m.hintIndex}` : `${h} index=${m.index}`;
    case 'heartbeat':
      return `${h} commit=${m.commit}${m.readSeq ? ` read=${m.readSeq}` : ''}`;
    case 'heartbeatResp':
      return `${h}${m.readSeq ? ` read=${m.readSeq}` : ''}`;
    case 'vote':
      return `${h}${m.pre ? ' pre' : ''}${m.transfer ? ' transfer' : ''} last=${m.lastTerm}/${m.lastIndex}`;
    case 'voteResp':
      return `${h}${m.pre ? ' pre' : ''} ${m.granted ? 'granted' : 'rejected'}`;
    case 'snapshot':
      return (
        `${h} snap=${m.snapshot.meta.term}/${m.snapshot.meta.index} ` +
        `voters=${m.snapshot.meta.membership.voters.join(',')} ` +
        `learners=${m.snapshot.meta.membership.learners.join(',')}`
      );
    case 'timeoutNow':
      return h;
    case 'readIndex':
      return `${h} id=${m.readId}`;
    case 'readIndexResp':
      return `${h} id=${m.readId} index=${m.index}`;
  }
}
