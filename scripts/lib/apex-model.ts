/**
 * A light model of the project's Apex, read from the @apexdevtools/apex-parser tree: each class with its
 * members and annotations (what LWC imports resolve against), plus small tree helpers the Apex checks share.
 */
import {
  ClassDeclarationContext,
  EnumDeclarationContext,
  InterfaceDeclarationContext,
  type ApexParserRuleContext
} from '@apexdevtools/apex-parser';
import * as path from 'node:path';
import { apexKind, parseApex } from './apex';
import { readText } from './project';

/** A node of the parse tree (rule context or terminal). */
export interface TreeNode {
  children?: TreeNode[] | null;
  parentCtx?: TreeNode | null;
  start?: { line: number; column: number; start: number; stop: number; text?: string } | null;
  stop?: { line: number; column: number; start: number; stop: number } | null;
  symbol?: {
    line: number;
    column: number;
    start: number;
    stop: number;
    text: string;
    type: number;
  };
  getText(): string;
}

export interface ApexAnnotation {
  /** Lower case, e.g. `auraenabled`. */
  name: string;
  /** Lower-case parameter name → lower-case value text (`cacheable` → `true`). */
  params: Map<string, string>;
}

export interface ApexMember {
  name: string;
  kind: 'method' | 'property' | 'field' | 'constructor';
  isStatic: boolean;
  /** `global`, `public`, `protected`, `private`, or `` (no keyword: private). */
  visibility: string;
  annotations: ApexAnnotation[];
  line: number;
  column: number;
}

export interface ApexType {
  name: string;
  kind: 'class' | 'interface' | 'enum';
  members: ApexMember[];
  inner: ApexType[];
  line: number;
}

export interface ApexFile {
  file: string;
  kind: 'class' | 'trigger';
  source: string;
  tree: ApexParserRuleContext;
  /** The top-level type (classes only; undefined for triggers and unparsable files). */
  type?: ApexType;
}

/** Every descendant (depth first, in source order) of a node, the node included. */
export function* descendants(node: TreeNode): Generator<TreeNode> {
  yield node;
  for (const child of node.children ?? []) yield* descendants(child);
}

/** 1-based line and column where a node starts. */
export function positionOf(node: TreeNode): { line: number; column: number } {
  const token = node.symbol ?? node.start;
  return { line: token?.line ?? 0, column: (token?.column ?? 0) + 1 };
}

function modifiersOf(node: TreeNode): { annotations: ApexAnnotation[]; keywords: Set<string> } {
  const annotations: ApexAnnotation[] = [];
  const keywords = new Set<string>();
  for (const child of node.children ?? []) {
    if (child.constructor.name !== 'ModifierContext') continue;
    const annotation = child.children?.find((c) => c.constructor.name === 'AnnotationContext');
    if (!annotation) {
      keywords.add(child.getText().toLowerCase());
      continue;
    }
    const id = annotation.children?.find((c) => c.constructor.name === 'IdContext');
    const params = new Map<string, string>();
    for (const pair of descendants(annotation)) {
      if (pair.constructor.name !== 'ElementValuePairContext') continue;
      const [key, , value] = pair.children ?? [];
      if (key && value) params.set(key.getText().toLowerCase(), value.getText().toLowerCase());
    }
    annotations.push({ name: (id?.getText() ?? annotation.getText()).toLowerCase(), params });
  }
  return { annotations, keywords };
}

function typeOf(declaration: TreeNode, modifierHolder: TreeNode): ApexType {
  const kind =
    declaration instanceof InterfaceDeclarationContext
      ? 'interface'
      : declaration instanceof EnumDeclarationContext
        ? 'enum'
        : 'class';
  const id = declaration.children?.find((c) => c.constructor.name === 'IdContext');
  const type: ApexType = {
    name: id?.getText() ?? '',
    kind,
    members: [],
    inner: [],
    line: positionOf(declaration).line
  };
  void modifierHolder;
  const body = declaration.children?.find((c) =>
    /^(Class|Interface)BodyContext$/.test(c.constructor.name)
  );
  for (const entry of body?.children ?? []) {
    if (!/^(ClassBodyDeclaration|InterfaceMethodDeclaration)Context$/.test(entry.constructor.name))
      continue;
    const { annotations, keywords } = modifiersOf(entry);
    const visibility =
      ['global', 'public', 'protected', 'private'].find((k) => keywords.has(k)) ?? '';
    const member = entry.children?.find((c) => c.constructor.name === 'MemberDeclarationContext');
    const inner = member?.children?.[0];
    const target = entry.constructor.name === 'InterfaceMethodDeclarationContext' ? entry : inner;
    if (!target) continue;
    const base = { isStatic: keywords.has('static'), visibility, annotations };
    const nameOf = (node: TreeNode): TreeNode | undefined =>
      node.children?.find((c) => c.constructor.name === 'IdContext');
    switch (target.constructor.name) {
      case 'MethodDeclarationContext':
      case 'InterfaceMethodDeclarationContext': {
        const id = nameOf(target);
        if (id)
          type.members.push({ name: id.getText(), kind: 'method', ...base, ...positionOf(id) });
        break;
      }
      case 'PropertyDeclarationContext': {
        const id = nameOf(target);
        if (id)
          type.members.push({ name: id.getText(), kind: 'property', ...base, ...positionOf(id) });
        break;
      }
      case 'FieldDeclarationContext':
        for (const node of descendants(target)) {
          if (node.constructor.name !== 'VariableDeclaratorContext') continue;
          const id = nameOf(node);
          if (id)
            type.members.push({ name: id.getText(), kind: 'field', ...base, ...positionOf(id) });
        }
        break;
      case 'ConstructorDeclarationContext':
        type.members.push({ name: type.name, kind: 'constructor', ...base, ...positionOf(target) });
        break;
      case 'ClassDeclarationContext':
      case 'InterfaceDeclarationContext':
      case 'EnumDeclarationContext':
        type.inner.push(typeOf(target, entry));
        break;
    }
  }
  return type;
}

/** Parses one Apex file; returns undefined when it cannot be read (the syntax check reports that). */
export function readApexFile(file: string): ApexFile | undefined {
  const source = readText(file);
  if (source instanceof Error) return undefined;
  const kind = apexKind(file);
  const parsed = parseApex(source, kind);
  if (parsed.errors.length > 0) return undefined;
  const result: ApexFile = { file, kind, source, tree: parsed.tree };
  if (kind === 'class') {
    const declaration = parsed.tree.children?.[0] as TreeNode | undefined;
    const inner = declaration?.children?.find(
      (c) =>
        c instanceof ClassDeclarationContext ||
        c instanceof InterfaceDeclarationContext ||
        c instanceof EnumDeclarationContext
    );
    if (declaration && inner) result.type = typeOf(inner, declaration);
  }
  return result;
}

/** Top-level Apex types of the project by lower-case name (the file name is the class name). */
export function apexTypesByName(files: ApexFile[]): Map<string, ApexFile> {
  const out = new Map<string, ApexFile>();
  for (const file of files) {
    if (file.kind === 'class') out.set(path.basename(file.file, '.cls').toLowerCase(), file);
  }
  return out;
}

/** Every type name declared anywhere in the files (top-level and inner), lower case. */
export function declaredTypeNames(files: ApexFile[]): Set<string> {
  const out = new Set<string>();
  const visit = (type: ApexType): void => {
    out.add(type.name.toLowerCase());
    type.inner.forEach(visit);
  };
  for (const file of files) if (file.type) visit(file.type);
  return out;
}
