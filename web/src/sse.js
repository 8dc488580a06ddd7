// Server-sent events read from a fetch body (EventSource cannot POST): text arrives in chunks
// that may split a line, or a "\r\n", anywhere; an event ends at a blank line.
export function createSseParser(onEvent) {
  let buffer = '';
  let event = '';
  let data = [];

  function line(text) {
    if (text === '') {
      if (data.length) onEvent({ event: event || 'message', data: data.join('\n') });
      event = '';
      data = [];
      return;
    }
    if (text[0] === ':') return; // a comment (": ping")
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }

  return {
    push(chunk) {
      buffer += chunk;
      const eol = /\r\n|\n|\r/g;
      let start = 0;
      let m;
      while ((m = eol.exec(buffer))) {
        // A "\r" at the very end may be the first half of "\r\n": wait for the next chunk.
        if (m[0] === '\r' && m.index === buffer.length - 1) break;
        line(buffer.slice(start, m.index));
        start = eol.lastIndex;
      }
      buffer = buffer.slice(start);
    },
    end() {
      if (buffer) line(buffer.replace(/\r$/, ''));
      buffer = '';
      line('');
    },
  };
}
