/** Where a proxy's generated files go. */

/** Directory name of a proxy's files: its node id with `/` turned into `-`. */
export function proxyDirectory(id: string): string {
  return id.replaceAll('/', '-');
}
