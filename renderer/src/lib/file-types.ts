/**
 * What the file table shows as a file's icon: a small badge with its extension (at most four
 * letters, "FILE" without one) coloured by kind. Text and CSS only: no icon font, no emoji
 * (headless Chromium and some systems draw those as empty boxes).
 */
export type FileKind = 'image' | 'video' | 'audio' | 'document' | 'code' | 'archive' | 'other'

const KINDS: Record<Exclude<FileKind, 'other'>, string[]> = {
  image: ['jpg', 'jpeg', 'png', 'gif', 'webp', 'svg', 'heic', 'heif', 'bmp', 'tif', 'tiff', 'avif', 'raw', 'ico'],
  video: ['mp4', 'mov', 'mkv', 'webm', 'avi', 'm4v', 'mpg', 'mpeg', 'ogv'],
  audio: ['mp3', 'wav', 'flac', 'ogg', 'oga', 'm4a', 'aac', 'opus', 'aiff'],
  document: ['pdf', 'txt', 'md', 'doc', 'docx', 'odt', 'rtf', 'xls', 'xlsx', 'ods', 'csv', 'ppt', 'pptx', 'odp', 'epub'],
  code: ['js', 'ts', 'json', 'html', 'css', 'py', 'rs', 'go', 'c', 'h', 'cpp', 'java', 'sh', 'yml', 'yaml', 'toml', 'xml', 'svelte'],
  archive: ['zip', 'tar', 'gz', 'tgz', 'bz2', 'xz', '7z', 'rar', 'zst', 'dmg', 'iso']
}

const BY_EXT = new Map<string, FileKind>()
for (const [kind, exts] of Object.entries(KINDS)) for (const e of exts) BY_EXT.set(e, kind as FileKind)

/** The extension of a file name, lower case, '' when none ("notes", ".bashrc"). */
export function extensionOf (name: string): string {
  const dot = name.lastIndexOf('.')
  if (dot <= 0 || dot === name.length - 1) return ''
  return name.slice(dot + 1).toLowerCase()
}

/** The badge of a file: its kind (for the colour) and the text shown. */
export function fileBadge (name: string): { kind: FileKind, text: string } {
  const ext = extensionOf(name)
  const kind = BY_EXT.get(ext) ?? 'other'
  const text = ext === '' || ext.length > 4 || !/^[a-z0-9]+$/.test(ext) ? 'FILE' : ext.toUpperCase()
  return { kind, text }
}
