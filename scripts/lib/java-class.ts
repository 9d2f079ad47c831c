/**
 * Reads the parts of a Java class file the gate needs (JVM spec §4): the class name, its super class, and
 * the public fields and methods with their descriptors. apexlink ships the platform's Apex types and standard
 * SObjects as Java classes (`com/nawforce/runforce/...` in runforce-*.jar); this is how the gate reads them
 * without starting a JVM.
 */
export interface JavaMember {
  name: string;
  /** JVM descriptor, e.g. `Lcom/nawforce/runforce/System/String;` or `(Ljava/lang/Object;)V`. */
  descriptor: string;
  access: number;
}

export interface JavaClass {
  /** Internal name, e.g. `com/nawforce/runforce/SObjects/Account`. */
  name: string;
  superName: string | undefined;
  access: number;
  fields: JavaMember[];
  methods: JavaMember[];
}

export const ACC_PUBLIC = 0x0001;
export const ACC_STATIC = 0x0008;

export function readJavaClass(bytes: Buffer): JavaClass {
  if (bytes.readUInt32BE(0) !== 0xcafebabe) throw new Error('not a Java class file');
  let p = 8;
  const poolCount = bytes.readUInt16BE(p);
  p += 2;
  const utf8: (string | undefined)[] = new Array<string | undefined>(poolCount);
  const classNameIndex: (number | undefined)[] = new Array<number | undefined>(poolCount);
  for (let i = 1; i < poolCount; i++) {
    const tag = bytes[p]!;
    p += 1;
    switch (tag) {
      case 1: {
        const length = bytes.readUInt16BE(p);
        // modified UTF-8: identical to UTF-8 for the names in these classes
        utf8[i] = bytes.toString('utf8', p + 2, p + 2 + length);
        p += 2 + length;
        break;
      }
      case 7:
        classNameIndex[i] = bytes.readUInt16BE(p);
        p += 2;
        break;
      case 8:
      case 16:
      case 19:
      case 20:
        p += 2;
        break;
      case 15:
        p += 3;
        break;
      case 3:
      case 4:
      case 9:
      case 10:
      case 11:
      case 12:
      case 17:
      case 18:
        p += 4;
        break;
      case 5:
      case 6:
        p += 8;
        i++; // long and double take two slots
        break;
      default:
        throw new Error(`unknown constant pool tag ${tag} at ${p - 1}`);
    }
  }
  const className = (index: number): string | undefined => {
    const nameIndex = classNameIndex[index];
    return nameIndex === undefined ? undefined : utf8[nameIndex];
  };
  const access = bytes.readUInt16BE(p);
  const name = className(bytes.readUInt16BE(p + 2));
  const superIndex = bytes.readUInt16BE(p + 4);
  const superName = superIndex === 0 ? undefined : className(superIndex);
  p += 6;
  const interfaces = bytes.readUInt16BE(p);
  p += 2 + interfaces * 2;
  const readMembers = (): JavaMember[] => {
    const count = bytes.readUInt16BE(p);
    p += 2;
    const members: JavaMember[] = [];
    for (let i = 0; i < count; i++) {
      const memberAccess = bytes.readUInt16BE(p);
      const memberName = utf8[bytes.readUInt16BE(p + 2)] ?? '';
      const descriptor = utf8[bytes.readUInt16BE(p + 4)] ?? '';
      const attributes = bytes.readUInt16BE(p + 6);
      p += 8;
      for (let a = 0; a < attributes; a++) p += 6 + bytes.readUInt32BE(p + 2);
      members.push({ name: memberName, descriptor, access: memberAccess });
    }
    return members;
  };
  const fields = readMembers();
  const methods = readMembers();
  if (!name) throw new Error('class file without a class name');
  return { name, superName, access, fields, methods };
}

/** `Lcom/nawforce/runforce/System/String;` → `System.String`; `[L…/Contact;` → `SObjects.Contact[]`. */
export function descriptorType(descriptor: string): string {
  let array = '';
  let d = descriptor;
  while (d.startsWith('[')) {
    array += '[]';
    d = d.slice(1);
  }
  const primitive: Record<string, string> = {
    V: 'void',
    Z: 'boolean',
    I: 'int',
    J: 'long',
    D: 'double',
    F: 'float',
    B: 'byte',
    C: 'char',
    S: 'short'
  };
  if (d.startsWith('L') && d.endsWith(';')) {
    const internal = d.slice(1, -1).replace(/^com\/nawforce\/runforce\//, '');
    return `${internal.replace(/\//g, '.')}${array}`;
  }
  return `${primitive[d] ?? d}${array}`;
}

/** The parameter descriptors of a method descriptor `(…)R`. */
export function parameterDescriptors(descriptor: string): string[] {
  const inner = descriptor.slice(1, descriptor.indexOf(')'));
  const out: string[] = [];
  let i = 0;
  while (i < inner.length) {
    let start = i;
    while (inner[i] === '[') i++;
    if (inner[i] === 'L') i = inner.indexOf(';', i) + 1;
    else i++;
    out.push(inner.slice(start, i));
    start = i;
  }
  return out;
}
