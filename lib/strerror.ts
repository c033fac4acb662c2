// The C library's text for a system error (strerror(), as OVS prints it: `FILE: open failed (No such
// file or directory)`, `connecting to unix:/x (Connection refused)`). Node's message for a file
// (`ENOENT: no such file or directory, open 'x'`) carries libuv's words, which are the C library's in
// lower case except for a few; a socket's (`connect ECONNREFUSED …`) carries only the code. Those
// are named here.
const WORDS: Readonly<Record<string, string>> = {
  EISDIR: 'Is a directory', ELOOP: 'Too many levels of symbolic links', ENAMETOOLONG: 'File name too long',
  ENOENT: 'No such file or directory', ECONNREFUSED: 'Connection refused', EACCES: 'Permission denied',
  ENOTSOCK: 'Socket operation on non-socket', EHOSTUNREACH: 'No route to host', ENETUNREACH: 'Network is unreachable',
  ETIMEDOUT: 'Connection timed out', ECONNRESET: 'Connection reset by peer',
};

/** The C library's words for an error code named above, else undefined. */
export function strerrorOfCode(code: string | undefined): string | undefined {
  return code === undefined ? undefined : WORDS[code];
}

/** A file that could not be read, as ovs-ofctl words it: `FILE: open failed (No such file or directory)`. */
export function openFailed(path: string, err: unknown): string {
  return `${path === '-' ? 'standard input' : path}: open failed (${strerror(err)})`;
}

export function strerror(err: unknown): string {
  const known = strerrorOfCode((err as NodeJS.ErrnoException | undefined)?.code);
  if (known !== undefined) return known;
  const m = /^[A-Z0-9]+: ([^,]+)/.exec(err instanceof Error ? err.message : '');
  return m ? m[1]!.charAt(0).toUpperCase() + m[1]!.slice(1) : String(err);
}
