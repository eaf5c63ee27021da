/**
 * Files held by an OpenAI-family simulator (OpenAI and Azure share it): metadata in the
 * `OpenAIFile` shape plus the raw bytes. Tests read `sim.files` to see what exists upstream.
 */

export interface SimulatedFile {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  expires_at: number | null;
  filename: string;
  purpose: string;
  status: string;
  status_details: string | null;
  /** The stored bytes (not part of the wire object). */
  content: Buffer;
}

export interface FileListQuery {
  purpose?: string;
  order: 'asc' | 'desc';
  after?: string;
  limit: number;
}

export class FileStore {
  readonly files = new Map<string, SimulatedFile>();
  private readonly order = new Map<string, number>();
  private nextSeq = 0;

  add(file: SimulatedFile): SimulatedFile {
    this.files.set(file.id, file);
    this.order.set(file.id, this.nextSeq++);
    return file;
  }

  get(id: string): SimulatedFile | undefined {
    return this.files.get(id);
  }

  delete(id: string): boolean {
    this.order.delete(id);
    return this.files.delete(id);
  }

  /** Sorted by `created_at` (ties by upload order), then cut after the `after` cursor. */
  list(q: FileListQuery): { data: SimulatedFile[]; hasMore: boolean } {
    let all = [...this.files.values()].filter((f) => !q.purpose || f.purpose === q.purpose);
    all.sort((a, b) => a.created_at - b.created_at || (this.order.get(a.id) ?? 0) - (this.order.get(b.id) ?? 0));
    if (q.order === 'desc') all.reverse();
    if (q.after) {
      const i = all.findIndex((f) => f.id === q.after);
      all = i < 0 ? [] : all.slice(i + 1);
    }
    return { data: all.slice(0, q.limit), hasMore: all.length > q.limit };
  }
}

/** The wire object (everything but the bytes). */
export function fileWire(f: SimulatedFile): Record<string, unknown> {
  const { content: _content, ...wire } = f;
  return wire;
}
