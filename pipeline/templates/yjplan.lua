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
  * Callouts ::: {.callout-warning} ... ::: (Quarto syntax), drawn the same way by both
    back-ends (under Quarto they arrive as Quarto's Callout nodes). A leading heading (or a title="..." attribute) becomes the callout title
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
  * Word (docx, both back-ends): comparison results and cautions keep their words, in character
    styles of reference.docx ("Status Better", ..., "Caution"); callouts become paragraphs in the
    "Callout" style with a bold title; a figure's fig-alt becomes its picture's alt text; without
    Quarto, figure and table captions get "Figure N:" / "Table N:" labels; a synthetic plan's
    body opens with the warning ("Synthetic Warning" style). pipeline/render/docx.py then
    post-processes the file (page header warning, repeated table headers, properties).
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
-- Word (both back-ends); styles named here are defined in reference.docx (pipeline/render/docx.py)
local IS_DOCX = FORMAT == "docx" or FORMAT == "openxml"


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
  png = true, svg = true, docx = true }
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

local function has_content_inlines(inlines)
  return inlines ~= nil and pandoc.utils.stringify(inlines):match("%S") ~= nil
end

local function has_content(blocks)
  return blocks ~= nil and #blocks > 0 and pandoc.utils.stringify(blocks) ~= ""
end

---------------------------------------------------------------------------------------------
-- Comparison spans and cautions
---------------------------------------------------------------------------------------------

-- Word: the word itself, in a character style of reference.docx (bold, coloured, on a tint)
local DOCX_SPAN_STYLE = { ["cmp-better"] = "Status Better", ["cmp-similar"] = "Status Similar",
  ["cmp-worse"] = "Status Worse", ["cmp-none"] = "Status Not Tested", caution = "Caution" }

local function docx_span(el)
  for _, cls in ipairs({ "cmp-better", "cmp-similar", "cmp-worse", "cmp-none", "caution" }) do
    if el.classes:includes(cls) then
      return pandoc.Span(el.content, pandoc.Attr(el.identifier, el.classes, { ["custom-style"] = DOCX_SPAN_STYLE[cls] }))
    end
  end
  return nil
end

local function span_filter(el)
  if IS_DOCX then
    return docx_span(el)
  end
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

-- The callout as our own blocks: a bordered typst block, or divs styled by yjplan.css (HTML and
-- any other format). `title` may be nil or empty (then a leading heading of the body, else the
-- kind's default title).
local function render_callout(kind, title, body, identifier, classes_in)
  local style = CALLOUT[kind]
  body = pandoc.Blocks(body or {}):clone() -- Quarto may hand over a single Block
  if not has_content_inlines(title) then
    if #body > 0 and body[1].t == "Header" then
      title = body:remove(1).content
    else
      title = pandoc.Inlines(style.title)
    end
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

  if IS_DOCX then
    -- Word: paragraphs in reference.docx's "Callout" style (bordered, tinted), the title in bold
    local out = pandoc.Blocks({ pandoc.Para({ pandoc.Strong(title) }) })
    out:extend(body)
    return pandoc.Div(out, pandoc.Attr(identifier or "", {}, { ["custom-style"] = "Callout" }))
  end

  local classes = pandoc.List({ "yj-callout", "yj-callout-" .. kind })
  for _, cls in ipairs(classes_in or {}) do
    if not cls:match("^callout") then
      classes:insert(cls)
    end
  end
  return pandoc.Div({
    pandoc.Div({ pandoc.Plain(title) }, pandoc.Attr("", { "yj-callout-title" })),
    pandoc.Div(body, pandoc.Attr("", { "yj-callout-body" })),
  }, pandoc.Attr(identifier or "", classes, { role = "note" }))
end

-- Without Quarto: ::: {.callout-warning title="..."} divs.
local function callout_filter(el)
  local kind = callout_type(el)
  if not kind then
    return nil
  end
  local title = nil
  if el.attributes["title"] and el.attributes["title"] ~= "" then
    title = pandoc.Inlines(el.attributes["title"])
  end
  return render_callout(kind, title, el.content, el.identifier, el.classes)
end

-- Under Quarto the same divs arrive as Quarto's Callout nodes (parsed before user filters); they
-- are drawn the same way as without Quarto (and Quarto's icon font package is never needed).
local function quarto_callout(c)
  local kind = c.type
  if not CALLOUT[kind] then
    return nil
  end
  local attr = c.attr or pandoc.Attr()
  return render_callout(kind, c.title, c.content, attr.identifier, attr.classes)
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

-- HTML: a table in a box that scrolls sideways when the table is wider than the page. The box,
-- not the table, scrolls (the table keeps display: table, so its semantics are never lost), and it
-- is a named, focusable region so that keyboard users can scroll it (WCAG 2.1.1; axe rule
-- scrollable-region-focusable). Named by the table's caption (pandoc escapes the attribute).
local function html_table_box(tbl)
  local label = pandoc.utils.stringify(tbl.caption.long or {})
  if label == "" then
    label = "Table"
  end
  -- attributes as a list of pairs: their order in the HTML is fixed (a Lua table's order is not,
  -- and the same inputs must give the same bytes)
  return pandoc.Div({ tbl }, pandoc.Attr("", { "table-scroll" },
    { { "role", "region" }, { "tabindex", "0" }, { "aria-label", label } }))
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

-- The arguments of typst's image(): the path, the alt text (fig-alt, else the caption, else the
-- title: PDF/UA-1 needs one) and the size.
local function typst_image_args(img)
  local args = { typst_string(img.src) }
  local alt = img.attributes["fig-alt"] or pandoc.utils.stringify(img.caption)
  if alt == nil or alt == "" then
    alt = pandoc.utils.stringify(img.title or "")
  end
  if alt ~= "" then
    table.insert(args, "alt: " .. typst_string(alt))
  end
  for _, dim in ipairs({ "width", "height" }) do
    local length = typst_length(img.attributes[dim])
    if length then
      table.insert(args, dim .. ": " .. length)
    end
  end
  return table.concat(args, ", ")
end

local function typst_figure(fig, img)
  local code = "#figure(image(" .. typst_image_args(img) .. ")"
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

-- Under Quarto with typst: Quarto 1.7's typst writer (pandoc 3.6) gives images no alt text, and a
-- PDF/UA-1 file must have it. Each image becomes typst's image() with its alt text; Quarto still
-- makes the numbered, captioned figure around it.
local function quarto_typst_image(img)
  return pandoc.RawInline("typst", "#box(image(" .. typst_image_args(img) .. "))")
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
      if IS_DOCX then
        -- the image's alt text is set by docx_image_alt (both back-ends)
        fig.caption.long = prefix_caption(fig.caption.long, caption_label("Figure", fig_n))
        return fig, false
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
        if IS_HTML then
          return html_table_box(tbl), false
        end
        return tbl, false
      end
      tbl_n = tbl_n + 1
      if tbl.identifier ~= "" then
        labels[tbl.identifier] = { kind = "Table", number = tostring(tbl_n) }
      end
      if IS_HTML or IS_DOCX then
        tbl.caption.long = prefix_caption(tbl.caption.long, caption_label("Table", tbl_n))
      end
      if IS_HTML then
        return html_table_box(tbl), false
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

-- Word (both back-ends): a figure's fig-alt="..." becomes its image's alt text (the picture's
-- description in Word), and a synthetic plan's body opens with the warning (the post-processing,
-- pipeline/render/docx.py, also puts it in the page header of every page).
local function docx_image_alt(img)
  local alt = img.attributes["fig-alt"]
  if not IS_DOCX or not alt or alt == "" then
    return nil
  end
  img.caption = pandoc.Inlines(alt)
  img.attributes["fig-alt"] = nil
  return img
end

local function docx_synthetic_notice(doc)
  local flag = doc.meta["synthetic"]
  if not IS_DOCX or not (flag == true or (flag ~= nil and pandoc.utils.stringify(flag) == "true")) then
    return nil
  end
  local text = pandoc.utils.stringify(doc.meta["synthetic-text"] or "")
  if text == "" then
    return nil
  end
  doc.blocks:insert(1, pandoc.Div({ pandoc.Para(pandoc.Inlines(text)) },
    pandoc.Attr("", {}, { ["custom-style"] = "Synthetic Warning" })))
  return doc
end

return {
  safety_filter,
  { Meta = synthetic_banner },
  { Image = docx_image_alt, Pandoc = docx_synthetic_notice },
  { Span = span_filter, Div = callout_filter, Callout = quarto_callout },
  {
    Image = function(img)
      if IN_QUARTO and IS_TYPST then
        return quarto_typst_image(img)
      end
      return nil
    end,
  },
  {
    Pandoc = function(doc)
      if IN_QUARTO then
        return nil
      end
      return number_and_link(doc)
    end,
  },
}
