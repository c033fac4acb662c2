// The C library's text for a system error (strerror(), as OVS prints it: `FILE: open failed (No such
// file or directory)`). Node's message (`ENOENT: no such file or directory, open 'x'`) carries libuv's
// words, which are the C library's in lower case except for a few, named here.
const DIFFERENT: Readonly<Record<string, string>> = {
  EISDIR: 'Is a directory', ELOOP: 'Too many levels of symbolic links', ENAMETOOLONG: 'File name too long',
};

export function strerror(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && DIFFERENT[code] !== undefined) return DIFFERENT[code];
  const m = /^[A-Z0-9]+: ([^,]+)/.exec(err instanceof Error ? err.message : '');
  return m ? m[1]!.charAt(0).toUpperCase() + m[1]!.slice(1) : String(err);
}
