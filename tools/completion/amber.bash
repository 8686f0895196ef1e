# bash completion for amber(1).  Installed as
# $(PREFIX)/share/bash-completion/completions/amber; or source it.
#
# What it completes, at the word under the cursor:
#   - the command (`amber --help` lists them) and, for `key` and `index`,
#     the subcommand (the usage lines of `amber COMMAND --help`);
#   - the options of the command, from `amber COMMAND --help`, so they
#     are always those of the amber being completed;
#   - STORE, TARGET and MOUNTPOINT as directories (an s3:// store is left
#     alone), FILE and F as files, D as directories, the PATH of
#     --dir NAME=PATH and --repo NAME=LOCATION as directories;
#   - SNAPSHOT (and --expect ID) as `latest` and the ids that
#     `amber snapshots STORE --cached-ids` prints: what this machine's
#     index holds in clear, with no passphrase and no network.  The
#     index keeps names and times sealed, so names are not offered; with
#     no index (or an s3:// store) nothing is offered.  The PATH after
#     SNAPSHOT: is inside the snapshot, sealed too: nothing is offered.
# Nothing here prompts, writes, or reaches the network.

# Words as the command line has them: bash splits at the ':' of
# SNAPSHOT:PATH and s3:// and at the '=' of NAME=PATH and --opt=VALUE
# (COMP_WORDBREAKS); glue such pieces back together.  Sets _amber_w
# (the words up to the cursor) and _amber_cw (the index of the last).
_amber_words()
{
	local i word glue=0

	_amber_w=()
	_amber_cw=-1
	for ((i = 0; i <= COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		if ((_amber_cw >= 0)) && { ((glue)) || [[ $word == [:=]* ]]; }
		then
			_amber_w[_amber_cw]+=$word
		else
			_amber_w[++_amber_cw]=$word
		fi
		if [[ $word == *[:=] ]]; then glue=1; else glue=0; fi
	done
}

# The help of "$1" (the amber binary) for command "$2" ("" for amber's
# own), kept for the shell's life.
declare -gA _amber_help_cache 2>/dev/null
_amber_help()
{
	local key="$1|$2"

	if [[ -z ${_amber_help_cache[$key]+set} ]]; then
		if [[ -n $2 ]]; then
			_amber_help_cache[$key]=$("$1" "$2" --help \
			    </dev/null 2>/dev/null)
		else
			_amber_help_cache[$key]=$("$1" --help \
			    </dev/null 2>/dev/null)
		fi
	fi
	_amber_text=${_amber_help_cache[$key]}
}

# Set COMPREPLY to the words of "$@" that start with the merged current
# word $_amber_cur, cut to the piece of it bash will replace.
_amber_reply()
{
	local c lead=${_amber_cur%"${COMP_WORDS[COMP_CWORD]}"}

	COMPREPLY=()
	for c in "$@"; do
		[[ $c == "$_amber_cur"* ]] && COMPREPLY+=("${c#"$lead"}")
	done
}

# Directories (or, with -f, files) below the value "$2" whose merged
# word is $_amber_cur.
_amber_paths()
{
	local kind=$1 value=$2 c full
	local prefix=${_amber_cur%"$value"}
	local lead=${_amber_cur%"${COMP_WORDS[COMP_CWORD]}"}

	compopt -o filenames 2>/dev/null
	COMPREPLY=()
	while IFS= read -r c; do
		full=$prefix$c
		COMPREPLY+=("${full#"$lead"}")
	done < <(compgen "$kind" -- "$value")
}

_amber()
{
	local amber cmd sub="" line tok word opt short arg i n depth
	local store="" index_dir="" want=""
	local -a cmds=() subs=() pos=() snaps=()
	local -A optarg=()
	local _amber_text _amber_cur
	local -a _amber_w
	local _amber_cw

	COMPREPLY=()
	_amber_words
	_amber_cur=${_amber_w[_amber_cw]}

	amber=${_amber_w[0]}
	[[ $amber == "~/"* ]] && amber=$HOME/${amber#"~/"}
	[[ $amber == */* ]] || amber=$(type -P -- "$amber")
	[[ -n $amber && -x $amber ]] || return 0

	_amber_help "$amber" ""
	while IFS= read -r line; do
		[[ $line =~ ^\ \ ([a-z][a-z-]*)\ \  ]] &&
		    cmds+=("${BASH_REMATCH[1]}")
	done <<<"$_amber_text"

	if ((_amber_cw == 1)); then
		if [[ $_amber_cur == -* ]]; then
			_amber_reply --help --version
		else
			_amber_reply "${cmds[@]}" help
		fi
		return 0
	fi
	cmd=${_amber_w[1]}
	case $cmd in
	help|--help|-h)
		((_amber_cw == 2)) && _amber_reply "${cmds[@]}"
		return 0 ;;
	esac
	for word in "${cmds[@]}"; do
		[[ $word == "$cmd" ]] && break
	done
	[[ $word == "$cmd" ]] || return 0

	# Options (and what their argument is) and usage lines.
	_amber_help "$amber" "$cmd"
	local -a opts=() usage=()
	while IFS= read -r line; do
		if [[ $line =~ ^\ +(-[A-Za-z],\ )?(--[A-Za-z0-9-]+)(\ [^ ]+)?(\ \ |$) ]]
		then
			opt=${BASH_REMATCH[2]}
			short=${BASH_REMATCH[1]%, }
			arg=${BASH_REMATCH[3]# }
			opts+=("$opt")
			[[ -n $short ]] && opts+=("$short")
			[[ -n $arg ]] && optarg[$opt]=$arg
		elif [[ $line =~ ^(usage:)?\ +amber\ $cmd(\ .*)?$ ]]; then
			usage+=("${BASH_REMATCH[2]}")
		fi
	done <<<"$_amber_text"

	# The positional words so far, the subcommand among them, and the
	# options that change where snapshot ids come from.
	local -a args=()
	for ((i = 2; i < _amber_cw; i++)); do
		word=${_amber_w[i]}
		case $word in
		--*=*)
			[[ ${word%%=*} == --index-dir ]] && index_dir=${word#*=}
			;;
		--*)
			if [[ -n ${optarg[$word]+set} ]]; then
				((i++))
				[[ $word == --index-dir ]] &&
				    index_dir=${_amber_w[i]}
			fi ;;
		-?*)	;;
		*)	args+=("$word") ;;
		esac
	done

	# Placeholders of the usage line that fits: "amber key add STORE"
	# gives subcommand "add", then STORE.
	for line in "${usage[@]}"; do
		local -a lsub=() lpos=() toks=()
		depth=0
		read -ra toks <<<"$line"
		for tok in "${toks[@]}"; do
			if ((depth == 0)) && [[ $tok =~ ^\[([A-Z][A-Z0-9_:]*)\]$ ]]
			then
				lpos+=("${BASH_REMATCH[1]}")
				continue
			fi
			if ((depth > 0)) || [[ $tok == [\[-]* ]]; then
				n=${tok//[^\[]/}
				depth=$((depth + ${#n}))
				n=${tok//[^\]]/}
				depth=$((depth - ${#n}))
				((depth < 0)) && depth=0
				continue
			fi
			if [[ $tok == [a-z]* ]] && ((${#lpos[@]} == 0)); then
				lsub+=("$tok")
			elif [[ $tok == [A-Z]* && $tok != *... ]]; then
				lpos+=("$tok")
			fi
		done
		if ((${#lsub[@]} > 0)); then
			subs+=("${lsub[0]}")
			[[ ${args[0]-} == "${lsub[0]}" ]] || continue
			sub=${lsub[0]}
		fi
		[[ ${#pos[@]} -eq 0 ]] && pos=("${lpos[@]}")
		[[ -n $sub ]] && break
	done
	if ((${#subs[@]} > 0)); then
		if [[ -z $sub ]]; then
			[[ $_amber_cur != -* ]] && ((${#args[@]} == 0)) &&
			    _amber_reply "${subs[@]}"
			return 0
		fi
		args=("${args[@]:1}")
	fi
	store=${args[0]-}

	# What the current word is.
	local prev=${_amber_w[_amber_cw - 1]} value=$_amber_cur
	if [[ $_amber_cur == --*=* && -n ${optarg[${_amber_cur%%=*}]+set} ]]
	then
		want=${optarg[${_amber_cur%%=*}]}
		value=${_amber_cur#*=}
	elif [[ $prev == --* && $prev != *=* && -n ${optarg[$prev]+set} ]]
	then
		want=${optarg[$prev]}
	elif [[ $_amber_cur == -* ]]; then
		_amber_reply "${opts[@]}"
		return 0
	else
		want=${pos[${#args[@]}]-}
	fi
	case $want in
	*=PATH|*=LOCATION)
		[[ $value == *=* ]] || return 0
		_amber_paths -d "${value#*=}" ;;
	STORE)
		[[ $value == s3:* ]] && return 0
		_amber_paths -d "$value" ;;
	TARGET|MOUNTPOINT|D|DIR)
		_amber_paths -d "$value" ;;
	F|FILE)
		_amber_paths -f "$value" ;;
	SNAPSHOT*|SNAP[A-Z0-9]*|A|B|ID)
		# --expect ID and SNAPSHOT; not the ID of `key revoke`.
		[[ $want == ID && $cmd == key ]] && return 0
		[[ $value == *:* ]] && return 0
		[[ -n $store && $store != s3:* ]] || return 0
		[[ $store == "~/"* ]] && store=$HOME/${store#"~/"}
		[[ $index_dir == "~/"* ]] && index_dir=$HOME/${index_dir#"~/"}
		while IFS= read -r word; do
			[[ $word =~ ^[0-9a-f]+$ ]] && snaps+=("$word")
		done < <("$amber" snapshots "$store" --cached-ids \
		    ${index_dir:+--index-dir "$index_dir"} </dev/null 2>/dev/null)
		((${#snaps[@]} > 0)) || return 0
		[[ $want == ID ]] || snaps+=(latest)
		_amber_reply "${snaps[@]}" ;;
	esac
	return 0
}

complete -F _amber amber
