/**
 * Turning what the user dropped or picked into files with relative paths (browser mode: the
 * page never sees local paths, it uploads the bytes). Folders dropped in Chromium are walked
 * through `webkitGetAsEntry()`; a folder picked with <input webkitdirectory> carries
 * `webkitRelativePath`.
 */

export interface PickedFile {
  file: File
  /** Path relative to the destination folder, '/'-separated, e.g. 'photos/2024/a.jpg'. */
  relativePath: string
}

/**
 * Grabs the entries of a drop. Must be called synchronously inside the drop handler: the
 * DataTransfer is emptied when the event handler returns; the walk itself is async.
 */
export function droppedEntries (dt: DataTransfer): Array<FileSystemEntry | File> {
  const out: Array<FileSystemEntry | File> = []
  const items = dt.items
  if (items && items.length > 0) {
    for (const item of Array.from(items)) {
      if (item.kind !== 'file') continue
      const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null
      if (entry) out.push(entry)
      else {
        const f = item.getAsFile()
        if (f) out.push(f)
      }
    }
    return out
  }
  return Array.from(dt.files)
}

export async function collectEntries (roots: Array<FileSystemEntry | File>): Promise<PickedFile[]> {
  const out: PickedFile[] = []
  for (const root of roots) {
    if (root instanceof File) out.push({ file: root, relativePath: root.name })
    else await walk(root, root.name, out)
  }
  return out
}

async function walk (entry: FileSystemEntry, rel: string, out: PickedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => { (entry as FileSystemFileEntry).file(resolve, reject) })
    out.push({ file, relativePath: rel })
    return
  }
  if (!entry.isDirectory) return
  const reader = (entry as FileSystemDirectoryEntry).createReader()
  // readEntries returns at most ~100 entries per call: read until it returns none.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => { reader.readEntries(resolve, reject) })
    if (batch.length === 0) break
    for (const child of batch) await walk(child, `${rel}/${child.name}`, out)
  }
}

/** Files from <input type=file multiple> or <input webkitdirectory>. */
export function pickedFiles (list: FileList | null): PickedFile[] {
  if (!list) return []
  return Array.from(list).map((file) => ({ file, relativePath: file.webkitRelativePath || file.name }))
}

export function totalBytes (files: PickedFile[]): number {
  return files.reduce((n, f) => n + f.file.size, 0)
}

/** True if a drag carries files (not text or a link being dragged around the page). */
export function hasFiles (dt: DataTransfer | null): boolean {
  return !!dt && Array.from(dt.types).includes('Files')
}
