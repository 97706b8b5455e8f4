--[[
yjplan.lua: the one Lua filter of the Youth Justice Strategic Plan renderer.

Used by both back-ends:
  * embedded (pandoc 3 + typst wheel): pandoc --lua-filter=yjplan.lua
  * Quarto: listed under `filters:` in _quarto.yml (runs before Quarto's own filters).

What it does
  * Comparison results [Better]{.cmp-better} / .cmp-similar / .cmp-worse / .cmp-none and
    [Small numbers]{.caution}: for typst they become coloured boxes (raw typst); for HTML the
    spans are left alone and styled by yjplan.css. The word is always kept: colour is never the
    only cue.
  * Callouts ::: {.callout-warning} ... ::: (Quarto syntax). Under Quarto they are left to
    Quarto. Otherwise a leading heading (or a title="..." attribute) becomes the callout title
    (so it is neither numbered nor listed in the table of contents); HTML gets
    <div class="yj-callout yj-callout-warning" role="note">, typst a bordered block.
  * Without Quarto only (Quarto's crossref does this itself):
      - HTML figure and table captions get "Figure N:" / "Table N:" labels (Typst numbers its
        own figures and tables);
      - a figure's fig-alt="..." becomes the image's alt text (HTML and typst);
      - cross references @fig-x, @tbl-x, @sec-x become "Figure N" / "Table N" / "Section N"
        links in HTML and #ref(<...>) in typst; an unknown reference is left as plain text
        (with a warning) rather than breaking the typst compile.
  * Under Quarto and HTML, metadata `synthetic: true` adds the synthetic-data banner at the top
    of the page body (the embedded back-end's HTML template does this itself; PDFs get it from
    the typst template).
  * Safety (first, both back-ends, every format): documents are read without raw HTML or raw
    blocks (pipeline/markdown.py READER_FORMAT); on top of that
      - a link is kept only if it goes to http(s) or mailto, to an in-document #anchor, or to a
        relative path of one of the project's own outputs (.html, .pdf, ...); anything else
        (javascript:, data:, file:, vbscript:, //host, /abs, ...) becomes its plain text;
      - an image is kept only if it is a relative path (no "..", no scheme) to an image file
        (figures); anything else becomes its alt text;
      - event-handler (on*), style and URL-carrying attributes (href, src, srcdoc, ...) are
        removed from every element.
--]]

local IN_QUARTO = type(quarto) == "table" and type(quarto.doc) == "table"
local IS_TYPST = FORMAT == "typst" or FORMAT:match("^typst") ~= nil
local IS_HTML = (not IS_TYPST) and FORMAT:match("html") ~= nil


-- text colour, background and border of each comparison result (kept in step with yjplan.css)
local SPAN_STYLE = {
  ["cmp-better"] = { fg = "#0b4f8a", bg = "#dcebf8", border = "#1f77b4" },
  ["cmp-similar"] = { fg = "#5c4300", bg = "#fff1b8", border = "#d4a000" },
  ["cmp-worse"] = { fg = "#9b1c1c", bg = "#fbe1e1", border = "#d62728" },
  ["cmp-none"] = { fg = "#3d3d3d", bg = "#ececec", border = "#8c8c8c" },
}
local SPAN_ORDER = { "cmp-better", "cmp-similar", "cmp-worse", "cmp-none" }

local CALLOUT = {
  note = { title = "Note", fg = "#0b4f8a", bg = "#eef5fc", border = "#1f77b4" },
  tip = { title = "Tip", fg = "#1e5e2e", bg = "#edf7ef", border = "#2e8b47" },
  important = { title = "Important", fg = "#7a1c1c", bg = "#fdeeee", border = "#c0392b" },
  warning = { title = "Warning", fg = "#6b4300", bg = "#fff6e0", border = "#d48a00" },
  caution = { title = "Caution", fg = "#7a3b00", bg = "#fff0e6", border = "#d35400" },
}

local function warn(msg)
  io.stderr:write("[yjplan.lua] WARNING: " .. msg .. "\n")
end

---------------------------------------------------------------------------------------------
-- Safety: links, images and attributes
---------------------------------------------------------------------------------------------

local LINK_SCHEMES = { http = true, https = true, mailto = true }
-- relative links may point to the project's own outputs only (or to a folder)
local OUTPUT_EXTENSIONS = { html = true, pdf = true, ipynb = true, json = true, md = true, csv = true,
  png = true, svg = true }
local IMAGE_EXTENSIONS = { png = true, jpg = true, jpeg = true, gif = true, svg = true, webp = true }
-- attributes that carry a URL, script or style: never written from a document
local UNSAFE_ATTRIBUTES = { style = true, href = true, src = true, srcset = true, srcdoc = true, action = true,
  formaction = true, ["xlink:href"] = true, background = true, poster = true, data = true, codebase = true,
  ping = true, ["http-equiv"] = true, content = true, manifest = true }

local function url_path(url)
  return (url:gsub("[#?].*$", ""))
end

local function extension(path)
  local ext = path:match("%.([%w]+)$")
  return ext and ext:lower() or nil
end

-- "anchor", "external", "relative" or nil (unsafe). Whitespace, control characters and
-- backslashes are refused outright (browsers drop or reinterpret them: "java\tscript:").
local function url_kind(url)
  if type(url) ~= "string" or url == "" or url:find("[%c%s\\]") then
    return nil
  end
  if url:sub(1, 1) == "#" then
    return "anchor"
  end
  local scheme = url:match("^(%a[%w+.-]*):")
  if scheme then
    return LINK_SCHEMES[scheme:lower()] and "external" or nil
  end
  if url:sub(1, 1) == "/" then
    return nil -- absolute path or //host
  end
  return "relative"
end

local function safe_link_target(url)
  local kind = url_kind(url)
  if kind == "anchor" or kind == "external" then
    return true
  end
  if kind == "relative" then
    local path = url_path(url)
    return path == "" or path:sub(-1) == "/" or OUTPUT_EXTENSIONS[extension(path) or ""] == true
  end
  return false
end

local function safe_image_source(src)
  if url_kind(src) ~= "relative" then
    return false
  end
  local path = url_path(src)
  for part in path:gmatch("[^/]+") do
    if part == ".." then
      return false
    end
  end
  return IMAGE_EXTENSIONS[extension(path) or ""] == true
end

local function clean_attributes(el)
  local drop = {}
  for key, _ in pairs(el.attributes) do
    local k = tostring(key):lower()
    if k:match("^on") or UNSAFE_ATTRIBUTES[k] then
      table.insert(drop, key)
    end
  end
  if #drop == 0 then
    return nil
  end
  for _, key in ipairs(drop) do
    el.attributes[key] = nil
  end
  return el
end

local function safe_link(el)
  if not safe_link_target(el.target) then
    warn("link to " .. el.target .. " removed (only http(s), mailto, #anchors and the project's own outputs)")
    return el.content
  end
  return clean_attributes(el)
end

local function safe_image(el)
  if not safe_image_source(el.src) then
    warn("image " .. el.src .. " removed (only relative paths to image files in the document's folder)")
    return el.caption
  end
  return clean_attributes(el)
end

local safety_filter = {
  Link = safe_link,
  Image = safe_image,
  Span = clean_attributes,
  Div = clean_attributes,
  Header = clean_attributes,
  Code = clean_attributes,
  CodeBlock = clean_attributes,
  Table = clean_attributes,
  Figure = clean_attributes,
  -- raw content cannot come from the reader (raw_html and raw_attribute are off); should any
  -- reach the filter (e.g. another reader), it is dropped rather than passed through
  -- (Quarto's own raw nodes are Quarto's business)
  RawInline = function(el)
    if not IN_QUARTO then
      return pandoc.Str(el.text)
    end
  end,
  RawBlock = function(el)
    if not IN_QUARTO then
      return pandoc.CodeBlock(el.text)
    end
  end,
}

local function typst_string(s)
  return '"' .. s:gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("\n", " ") .. '"'
end

local function has_content(blocks)
  return blocks ~= nil and #blocks > 0 and pandoc.utils.stringify(blocks) ~= ""
end

---------------------------------------------------------------------------------------------
-- Comparison spans and cautions
---------------------------------------------------------------------------------------------

local function span_filter(el)
  if not IS_TYPST then
    return nil
  end
  for _, cls in ipairs(SPAN_ORDER) do
    if el.classes:includes(cls) then
      local st = SPAN_STYLE[cls]
      local out = pandoc.List({
        pandoc.RawInline("typst", string.format(
          '#box(fill: rgb("%s"), stroke: 0.5pt + rgb("%s"), inset: (x: 2.5pt), outset: (y: 1.8pt), radius: 2pt)[#text(fill: rgb("%s"), weight: "bold")[',
          st.bg, st.border, st.fg)),
      })
      out:extend(el.content)
      out:insert(pandoc.RawInline("typst", "]]"))
      return out
    end
  end
  if el.classes:includes("caution") then
    local out = pandoc.List({
      pandoc.RawInline("typst", '#text(fill: rgb("#7a4a00"), style: "italic")['),
    })
    out:extend(el.content)
    out:insert(pandoc.RawInline("typst", "]"))
    return out
  end
  return nil
end

---------------------------------------------------------------------------------------------
-- Callouts
---------------------------------------------------------------------------------------------

local function callout_type(el)
  for _, cls in ipairs(el.classes) do
    local kind = cls:match("^callout%-(%a+)$")
    if kind and CALLOUT[kind] then
      return kind
    end
  end
  return nil
end

local function callout_filter(el)
  if IN_QUARTO then
    return nil
  end
  local kind = callout_type(el)
  if not kind then
    return nil
  end
  local style = CALLOUT[kind]
  local body = el.content:clone()
  local title
  if el.attributes["title"] and el.attributes["title"] ~= "" then
    title = pandoc.Inlines(el.attributes["title"])
  elseif #body > 0 and body[1].t == "Header" then
    title = body:remove(1).content
  else
    title = pandoc.Inlines(style.title)
  end

  if IS_TYPST then
    local out = pandoc.List({
      pandoc.RawBlock("typst", string.format(
        '#block(width: 100%%, inset: (x: 10pt, y: 8pt), radius: 2pt, fill: rgb("%s"), stroke: (left: 3pt + rgb("%s")), breakable: true)[',
        style.bg, style.border)),
    })
    local heading = pandoc.List({
      pandoc.RawInline("typst", string.format('#text(weight: "bold", fill: rgb("%s"))[', style.fg)),
    })
    heading:extend(title)
    heading:insert(pandoc.RawInline("typst", "]"))
    out:insert(pandoc.Para(heading))
    out:extend(body)
    out:insert(pandoc.RawBlock("typst", "]\n"))
    return out
  end

  -- HTML (and any other format): plain divs styled by yjplan.css
  local classes = pandoc.List({ "yj-callout", "yj-callout-" .. kind })
  for _, cls in ipairs(el.classes) do
    if not cls:match("^callout") then
      classes:insert(cls)
    end
  end
  local attrs = { role = "note" }
  return pandoc.Div({
    pandoc.Div({ pandoc.Plain(title) }, pandoc.Attr("", { "yj-callout-title" })),
    pandoc.Div(body, pandoc.Attr("", { "yj-callout-body" })),
  }, pandoc.Attr(el.identifier, classes, attrs))
end

---------------------------------------------------------------------------------------------
-- Figures, tables, section numbers and cross references (embedded back-end only)
---------------------------------------------------------------------------------------------

local function first_image(fig)
  local found = nil
  pandoc.Div(fig.content):walk({
    Image = function(img)
      if not found then
        found = img
      end
      return nil
    end,
  })
  return found
end

local function caption_label(kind, number)
  return pandoc.Span({ pandoc.Str(kind), pandoc.Space(), pandoc.Str(tostring(number) .. ":") },
    pandoc.Attr("", { "caption-label" }))
end

local function prefix_caption(long, label)
  local blocks = long and long:clone() or pandoc.Blocks({})
  if #blocks > 0 and (blocks[1].t == "Plain" or blocks[1].t == "Para") then
    local inlines = pandoc.List({ label, pandoc.Space() })
    inlines:extend(blocks[1].content)
    blocks[1] = pandoc.Plain(inlines)
  else
    blocks:insert(1, pandoc.Plain({ label }))
  end
  return blocks
end

local TYPST_LENGTH_UNITS = { ["%"] = true, pt = true, mm = true, cm = true, ["in"] = true, em = true }

local function typst_length(value)
  if not value then
    return nil
  end
  local number, unit = value:match("^%s*([%d%.]+)%s*(%a*%%?)%s*$")
  if not number then
    return nil
  end
  if unit == "px" or unit == "" then
    return string.format("%.1fpt", tonumber(number) * 0.75)
  end
  if TYPST_LENGTH_UNITS[unit] then
    return number .. unit
  end
  return nil
end

local function typst_figure(fig, img)
  local args = { typst_string(img.src) }
  local alt = img.attributes["fig-alt"] or pandoc.utils.stringify(img.caption)
  if alt and alt ~= "" then
    table.insert(args, "alt: " .. typst_string(alt))
  end
  local width = typst_length(img.attributes["width"])
  if width then
    table.insert(args, "width: " .. width)
  end
  local height = typst_length(img.attributes["height"])
  if height then
    table.insert(args, "height: " .. height)
  end
  local code = "#figure(image(" .. table.concat(args, ", ") .. ")"
  if has_content(fig.caption.long) then
    local caption = pandoc.write(pandoc.Pandoc(fig.caption.long), "typst", { wrap_text = "none" })
    code = code .. ",\n  caption: [" .. caption:gsub("%s+$", "") .. "]"
  end
  code = code .. ",\n)"
  if fig.identifier ~= "" then
    code = code .. " <" .. fig.identifier .. ">"
  end
  -- the trailing newline keeps a blank line (a paragraph break) before what follows
  return pandoc.RawBlock("typst", code .. "\n")
end

local XREF_KIND = { fig = "Figure", tbl = "Table", sec = "Section" }

local function number_and_link(doc)
  local labels = {}    -- id -> { kind = "Figure", number = "1" }
  local fig_n, tbl_n = 0, 0
  local counters = { 0, 0, 0, 0, 0, 0 }
  -- HTML headings carry numbers only with --number-sections; otherwise refer to them by title
  local numbered = IS_TYPST or (PANDOC_WRITER_OPTIONS and PANDOC_WRITER_OPTIONS.number_sections)

  doc = doc:walk({
    traverse = "topdown",
    Header = function(h)
      if not numbered or h.classes:includes("unnumbered") or h.classes:includes("-") then
        if h.identifier ~= "" then
          labels[h.identifier] = { kind = "Section", number = nil, title = pandoc.utils.stringify(h.content) }
        end
        return nil
      end
      counters[h.level] = counters[h.level] + 1
      for i = h.level + 1, #counters do
        counters[i] = 0
      end
      local parts = {}
      for i = 1, h.level do
        table.insert(parts, tostring(counters[i]))
      end
      if h.identifier ~= "" then
        labels[h.identifier] = { kind = "Section", number = table.concat(parts, ".") }
      end
      return nil
    end,
    Figure = function(fig)
      fig_n = fig_n + 1
      if fig.identifier ~= "" then
        labels[fig.identifier] = { kind = "Figure", number = tostring(fig_n) }
      end
      local img = first_image(fig)
      if IS_TYPST and img then
        return typst_figure(fig, img), false
      end
      if IS_HTML then
        if img and img.attributes["fig-alt"] then
          local alt = img.attributes["fig-alt"]
          fig = fig:walk({
            Image = function(i)
              if i.src == img.src then
                i.caption = pandoc.Inlines(alt)
                i.attributes["fig-alt"] = nil
                return i
              end
            end,
          })
        end
        fig.caption.long = prefix_caption(fig.caption.long, caption_label("Figure", fig_n))
        return fig, false
      end
      return nil
    end,
    Table = function(tbl)
      -- let columns size to their content (pandoc fixes equal relative widths when a source
      -- line is long, which squeezes numbers in wide tables); the templates make them fit
      for i, spec in ipairs(tbl.colspecs) do
        tbl.colspecs[i] = { spec[1], pandoc.ColWidthDefault }
      end
      if not has_content(tbl.caption.long) then
        if IS_TYPST then
          -- pandoc wraps every typst table in a figure: keep uncaptioned ones out of the numbering
          return {
            pandoc.RawBlock("typst", "#[#set figure(numbering: none)"),
            tbl,
            pandoc.RawBlock("typst", "]\n"),
          }, false
        end
        return tbl, false
      end
      tbl_n = tbl_n + 1
      if tbl.identifier ~= "" then
        labels[tbl.identifier] = { kind = "Table", number = tostring(tbl_n) }
      end
      if IS_HTML then
        tbl.caption.long = prefix_caption(tbl.caption.long, caption_label("Table", tbl_n))
      end
      return tbl, false
    end,
  })

  doc = doc:walk({
    Cite = function(cite)
      local out = pandoc.List({})
      for i, c in ipairs(cite.citations) do
        local prefix = c.id:match("^(%a+)%-")
        local known = labels[c.id]
        if i > 1 then
          out:insert(pandoc.Str(","))
          out:insert(pandoc.Space())
        end
        if known and prefix and XREF_KIND[prefix] then
          if IS_TYPST and known.number then
            out:insert(pandoc.RawInline("typst", "#ref(<" .. c.id .. ">)"))
          else
            local text = known.kind
            if known.number then
              text = text .. " " .. known.number
            elseif known.title then
              text = known.title
            end
            out:insert(pandoc.Link(pandoc.Inlines(text), "#" .. c.id))
          end
        elseif prefix and XREF_KIND[prefix] then
          warn("unresolved cross reference @" .. c.id)
          out:insert(pandoc.Str("?" .. c.id))
        else
          -- not a cross reference: keep what the author wrote, literally
          out:insert(pandoc.Str("@" .. c.id))
        end
      end
      return out
    end,
  })
  return doc
end

---------------------------------------------------------------------------------------------

local function synthetic_banner(meta)
  if not (IN_QUARTO and IS_HTML) then
    return nil
  end
  local flag = meta["synthetic"]
  if flag == true or (flag ~= nil and pandoc.utils.stringify(flag) == "true") then
    local text = pandoc.utils.stringify(meta["synthetic-text"] or "")
    local escaped = text:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;")
    quarto.doc.include_text("before-body",
      '<div class="synthetic-banner" role="note">' .. escaped .. "</div>")
  end
  return nil
end

return {
  safety_filter,
  { Meta = synthetic_banner },
  { Span = span_filter, Div = callout_filter },
  {
    Pandoc = function(doc)
      if IN_QUARTO then
        return nil
      end
      return number_and_link(doc)
    end,
  },
}
