/**
 * Strips an ELF64 little-endian executable (x86_64 or aarch64) the way `strip --strip-all` does for what matters
 * here: the symbol table, the debug sections and every other section the program loader never maps are dropped,
 * and so are their bytes at the end of the file. Written in TypeScript so the layer build needs no binutils for a
 * foreign architecture (Debian's `strip` only reads the host's).
 *
 * What is kept is everything a process needs: every byte any program header covers (the loader reads only those)
 * and the section headers of the allocated sections, renumbered, with a new section-name table.
 */

const ELF_MAGIC = 0x464c457f;
const SHT_NOBITS = 8;
const SHT_REL = 9;
const SHT_RELA = 4;
const SHF_ALLOC = 0x2;
const SHF_INFO_LINK = 0x40;
const SECTION_HEADER_SIZE = 64;

/** Thrown for a file this stripper cannot handle; the message names the reason. */
export class ElfStripError extends Error {
  override readonly name = 'ElfStripError';
}

interface Section {
  index: number;
  name: string;
  header: Buffer;
  type: number;
  flags: bigint;
  offset: number;
  size: number;
}

/** What {@link stripElf} removed. */
export interface StripResult {
  data: Buffer;
  /** Names of the dropped sections, in file order. */
  removed: string[];
}

/** Returns a stripped copy of `input`; `input` is not changed. */
export function stripElf(input: Buffer): StripResult {
  if (input.length < 64 || input.readUInt32LE(0) !== ELF_MAGIC) {
    throw new ElfStripError('not an ELF file');
  }
  if (input[4] !== 2 || input[5] !== 1) {
    throw new ElfStripError('only 64-bit little-endian ELF files are supported');
  }
  const phoff = Number(input.readBigUInt64LE(0x20));
  const shoff = Number(input.readBigUInt64LE(0x28));
  const phentsize = input.readUInt16LE(0x36);
  const phnum = input.readUInt16LE(0x38);
  const shentsize = input.readUInt16LE(0x3a);
  const shnum = input.readUInt16LE(0x3c);
  const shstrndx = input.readUInt16LE(0x3e);
  if (shentsize !== SECTION_HEADER_SIZE || shnum === 0 || shnum >= 0xff00 || shstrndx >= shnum) {
    throw new ElfStripError(
      'unexpected section header table (extended numbering is not supported)',
    );
  }

  // Everything the loader maps: the program headers themselves and each segment's file bytes.
  let keepEnd = phoff + phentsize * phnum;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    const offset = Number(input.readBigUInt64LE(at + 8));
    const fileSize = Number(input.readBigUInt64LE(at + 32));
    keepEnd = Math.max(keepEnd, offset + fileSize);
  }

  const headerAt = (index: number) => shoff + index * SECTION_HEADER_SIZE;
  const names = sectionBytes(input, headerAt(shstrndx));
  const sections: Section[] = [];
  for (let index = 0; index < shnum; index++) {
    const header = Buffer.from(
      input.subarray(headerAt(index), headerAt(index) + SECTION_HEADER_SIZE),
    );
    const nameOffset = header.readUInt32LE(0);
    const end = names.indexOf(0, nameOffset);
    sections.push({
      index,
      name: names.toString('latin1', nameOffset, end < 0 ? names.length : end),
      header,
      type: header.readUInt32LE(4),
      flags: header.readBigUInt64LE(8),
      offset: Number(header.readBigUInt64LE(24)),
      size: Number(header.readBigUInt64LE(32)),
    });
  }

  const kept = sections.filter(
    (section) => section.index === 0 || (section.flags & BigInt(SHF_ALLOC)) !== 0n,
  );
  for (const section of kept) {
    if (section.type !== SHT_NOBITS && section.offset + section.size > keepEnd) {
      throw new ElfStripError(`allocated section ${section.name} lies outside every segment`);
    }
  }
  const newIndex = new Map(kept.map((section, index) => [section.index, index]));

  const nameTable: Buffer[] = [Buffer.from([0])];
  let nameTableSize = 1;
  const addName = (name: string): number => {
    if (name === '') return 0;
    const at = nameTableSize;
    const bytes = Buffer.from(`${name}\0`, 'latin1');
    nameTable.push(bytes);
    nameTableSize += bytes.length;
    return at;
  };
  const headers = kept.map((section) => {
    const header = Buffer.from(section.header);
    header.writeUInt32LE(addName(section.name), 0);
    header.writeUInt32LE(newIndex.get(header.readUInt32LE(40)) ?? 0, 40);
    // sh_info holds a section index only for relocation sections and SHF_INFO_LINK (else a symbol count).
    if (
      section.type === SHT_REL ||
      section.type === SHT_RELA ||
      (section.flags & BigInt(SHF_INFO_LINK)) !== 0n
    ) {
      header.writeUInt32LE(newIndex.get(header.readUInt32LE(44)) ?? 0, 44);
    }
    return header;
  });
  const shstrtabName = addName('.shstrtab');
  const namesData = Buffer.concat(nameTable);

  const namesOffset = align(keepEnd, 8);
  const headersOffset = align(namesOffset + namesData.length, 8);
  const shstrtab = Buffer.alloc(SECTION_HEADER_SIZE);
  shstrtab.writeUInt32LE(shstrtabName, 0);
  shstrtab.writeUInt32LE(3, 4); // SHT_STRTAB
  shstrtab.writeBigUInt64LE(BigInt(namesOffset), 24);
  shstrtab.writeBigUInt64LE(BigInt(namesData.length), 32);
  shstrtab.writeBigUInt64LE(1n, 48);
  headers.push(shstrtab);

  const output = Buffer.alloc(headersOffset + headers.length * SECTION_HEADER_SIZE);
  input.copy(output, 0, 0, keepEnd);
  namesData.copy(output, namesOffset);
  headers.forEach((header, index) => {
    header.copy(output, headersOffset + index * SECTION_HEADER_SIZE);
  });
  output.writeBigUInt64LE(BigInt(headersOffset), 0x28);
  output.writeUInt16LE(headers.length, 0x3c);
  output.writeUInt16LE(headers.length - 1, 0x3e);

  const removed = sections
    .filter((section) => !newIndex.has(section.index))
    .map((section) => section.name);
  return { data: output, removed };
}

function sectionBytes(input: Buffer, headerAt: number): Buffer {
  const offset = Number(input.readBigUInt64LE(headerAt + 24));
  const size = Number(input.readBigUInt64LE(headerAt + 32));
  return input.subarray(offset, offset + size);
}

function align(value: number, to: number): number {
  return Math.ceil(value / to) * to;
}
