/**
 * What a requested model name routes to: a model group of `model_list`, an alias of one
 * (`router_settings.model_group_alias`), or a wildcard route (`model_name: "openai/*"`), in that
 * order; among wildcard routes the most specific matching one. A wildcard route's deployments
 * are derived per requested name: the same deployment with the name filled into its upstream
 * model, and an id of its own (`<route deployment id>~<upstream model>`) that files and batches
 * can be pinned to and that is derived again from the id alone after a restart.
 */
import { targetOf } from '../config/build-deployments.ts';
import { catalogueModels } from '../config/model-catalogue.ts';
import { ANY_MODEL, fillModelPattern, isModelPattern, matchModelPattern, matchesModelPattern, patternSpecificity } from '../config/model-pattern.ts';
import type { PorticoConfig } from '../config/types.ts';
import type { Deployment } from '../spec/provider.ts';

/** Derived deployments kept per name; a client naming ever new models cannot grow it without bound. */
const MAX_DERIVED_NAMES = 1000;
const DERIVED_ID_SEPARATOR = '~';

interface WildcardRoute {
  readonly pattern: string;
  readonly deployments: readonly Deployment[];
}

export class ModelRoutes {
  readonly #groups = new Map<string, readonly Deployment[]>();
  readonly #aliases: PorticoConfig['router']['modelGroupAlias'];
  readonly #wildcards: readonly WildcardRoute[];
  readonly #derived = new Map<string, readonly Deployment[]>();
  /** Access group -> the model groups and wildcard routes with a deployment in it (LiteLLM's `access_groups`). */
  readonly #accessGroups = new Map<string, Set<string>>();

  constructor(config: Pick<PorticoConfig, 'deployments' | 'router'>) {
    const groups = new Map<string, Deployment[]>();
    const patterns = new Map<string, Deployment[]>();
    for (const deployment of config.deployments) {
      const into = isModelPattern(deployment.modelGroup) ? patterns : groups;
      const list = into.get(deployment.modelGroup) ?? [];
      list.push(deployment);
      into.set(deployment.modelGroup, list);
    }
    for (const [name, list] of groups) this.#groups.set(name, Object.freeze(list));
    this.#wildcards = [...patterns]
      .map(([pattern, deployments]) => ({ pattern, deployments: Object.freeze(deployments) }))
      .sort((a, b) => patternSpecificity(b.pattern) - patternSpecificity(a.pattern));
    this.#aliases = config.router.modelGroupAlias;
    for (const deployment of config.deployments) {
      for (const accessGroup of deployment.accessGroups ?? []) {
        let members = this.#accessGroups.get(accessGroup);
        if (members === undefined) this.#accessGroups.set(accessGroup, (members = new Set()));
        members.add(deployment.modelGroup);
      }
    }
  }

  /** Whether `name` is an access group of some deployment. */
  isAccessGroup(name: string): boolean {
    return this.#accessGroups.has(name);
  }

  /** The access groups `name` (a model group or wildcard route, resolved) belongs to. */
  accessGroupsOf(name: string): readonly string[] {
    if (this.#accessGroups.size === 0) return [];
    const route = this.#groups.has(name) ? name : this.#wildcards.find((wildcard) => matchModelPattern(wildcard.pattern, name) !== undefined)?.pattern;
    if (route === undefined) return [];
    return [...this.#accessGroups].filter(([, members]) => members.has(route)).map(([accessGroup]) => accessGroup);
  }

  /** Model groups of `model_list` (wildcard routes left out), in config order. */
  groups(): string[] {
    return [...this.#groups.keys()];
  }

  /** The group or route `name` is served by: itself, or an alias's target; undefined when none. */
  resolve(name: string): string | undefined {
    if (this.#groups.has(name)) return name;
    const alias = this.#aliases[name];
    const target = alias === undefined ? name : alias.model;
    if (this.#groups.has(target)) return target;
    return this.deploymentsOf(target).length > 0 ? target : undefined;
  }

  has(name: string): boolean {
    return this.resolve(name) !== undefined;
  }

  /**
   * The names that are one model for allowlists: an alias and its target. A key allowed either
   * may use both; nothing else is implied.
   */
  equivalents(name: string): string[] {
    const names = [name];
    const alias = this.#aliases[name];
    if (alias !== undefined) names.push(alias.model);
    for (const [other, { model }] of Object.entries(this.#aliases)) if (model === name) names.push(other);
    return names;
  }

  /** The deployments serving `name` (a group's own, or a wildcard route's derived for it). */
  deploymentsOf(name: string): readonly Deployment[] {
    const own = this.#groups.get(name);
    if (own !== undefined) return own;
    let derived = this.#derived.get(name);
    if (derived === undefined) {
      derived = Object.freeze(this.#derive(name));
      if (this.#derived.size >= MAX_DERIVED_NAMES) this.#derived.clear();
      this.#derived.set(name, derived);
    }
    return derived;
  }

  /** A derived deployment, from its id alone. */
  derivedDeployment(id: string): Deployment | undefined {
    for (const route of this.#wildcards) {
      for (const base of route.deployments) {
        if (!id.startsWith(base.id + DERIVED_ID_SEPARATOR)) continue;
        const upstream = id.slice(base.id.length + DERIVED_ID_SEPARATOR.length);
        return upstream.length > 0 ? derivedFrom(base, upstream) : undefined;
      }
    }
    return undefined;
  }

  /**
   * What `/v1/models` lists: the groups, the aliases not hidden, and for each wildcard route the
   * catalogue's models it serves (a client can send those names; any other matching name works too).
   */
  listed(): string[] {
    const names = new Set(this.#groups.keys());
    for (const [alias, { hidden }] of Object.entries(this.#aliases)) if (!hidden && this.has(alias)) names.add(alias);
    for (const route of this.#wildcards) {
      for (const model of catalogueModels()) {
        for (const base of route.deployments) {
          const candidate = [model.name, `${base.providerName}/${model.name}`].find((name) => matchesModelPattern(route.pattern, name));
          if (candidate === undefined || names.has(candidate)) continue;
          const served = this.deploymentsOf(candidate);
          if (served.some((deployment) => deployment.providerName === model.provider)) names.add(candidate);
        }
      }
    }
    return [...names];
  }

  #derive(name: string): Deployment[] {
    for (const route of this.#wildcards) {
      const captures = matchModelPattern(route.pattern, name);
      if (captures === undefined) continue;
      const deployments = route.deployments.flatMap((base) => {
        const upstream = upstreamFor(base, captures);
        return upstream === undefined ? [] : [derivedFrom(base, upstream)];
      });
      if (deployments.length > 0) return deployments;
    }
    return [];
  }
}

/**
 * The wildcard route deployment a derived deployment id (`<route id>~<model>`) belongs to, among
 * `deployments` by id: what its rpm/tpm are (the same as its route's).
 */
export function routeDeploymentOf(id: string, deployments: ReadonlyMap<string, Deployment>): Deployment | undefined {
  for (let at = id.lastIndexOf(DERIVED_ID_SEPARATOR); at > 0; at = id.lastIndexOf(DERIVED_ID_SEPARATOR, at - 1)) {
    const route = deployments.get(id.slice(0, at));
    if (route !== undefined && isModelPattern(route.modelGroup)) return route;
  }
  return undefined;
}

/**
 * The upstream model a wildcard deployment sends for the request's `captures`; undefined when
 * it does not serve that name (`model: "*"` serves only names of its own provider).
 */
function upstreamFor(base: Deployment, captures: readonly string[]): string | undefined {
  const filled = fillModelPattern(base.upstreamModel, captures);
  if (base.params.model === ANY_MODEL && !base.params.custom_llm_provider) {
    const target = targetOf({ model: filled }, 0);
    return target.served && target.providerName === base.providerName ? target.upstreamModel : undefined;
  }
  // `model_name: "*"` with `model: openai/*` asked for `openai/gpt-4o`: the prefix is not part of the model.
  const prefix = `${base.providerName}/`;
  const upstream = filled.startsWith(prefix) && filled.length > prefix.length ? filled.slice(prefix.length) : filled;
  return upstream.length > 0 ? upstream : undefined;
}

function derivedFrom(base: Deployment, upstreamModel: string): Deployment {
  return Object.freeze({ ...base, id: `${base.id}${DERIVED_ID_SEPARATOR}${upstreamModel}`, upstreamModel });
}
